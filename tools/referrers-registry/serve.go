// Command referrers-registry serves an in-memory OCI registry with the
// OCI 1.1 referrers API (GET /v2/<name>/referrers/<digest>) on loopback, for
// the supply-chain tests. It is go-containerregistry's pkg/registry (the
// registry behind `crane registry serve`) with its referrers support turned
// on, which `crane registry serve` leaves off. Debian's docker-registry 2.8
// has no referrers API, so the tests run against both.
//
// The file is not called main.go so that the Nx plugin does not infer a
// project here.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	referrers := flag.Bool("referrers", true, "answer the OCI 1.1 referrers API (false: 404, like a registry without it)")
	quiet := flag.Bool("quiet", true, "do not log every request")
	flag.Parse()

	listener, err := net.Listen("tcp", *address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "referrers-registry: cannot listen on %s: %v\n", *address, err)
		os.Exit(1)
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if *quiet {
		logger = log.New(discard{}, "", 0)
	}
	handler := registry.New(registry.WithReferrersSupport(*referrers), registry.Logger(logger))
	// The test harness reads the port from this first line.
	fmt.Printf("listening on %s\n", listener.Addr().String())
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "referrers-registry: %v\n", err)
		os.Exit(1)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
