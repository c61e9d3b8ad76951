// Command web serves the Linkerd dashboard.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"example.com/linkerd2/pkg/buildinfo"
	"example.com/linkerd2/pkg/serve"
	"example.com/linkerd2/web/srv"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const name = "linkerd2-web"

// Environment overrides of the flag defaults, for images whose entrypoint is fixed.
const (
	addrEnv           = "LINKERD2_WEB_ADDR"
	controllerAddrEnv = "LINKERD2_CONTROLLER_URL"
)

func main() {
	// As PID 1 in a container the process gets no default signal handling,
	// so SIGTERM must be caught explicitly for a clean shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", envOr(addrEnv, "127.0.0.1:8084"), "address to serve the dashboard on (env "+addrEnv+")")
	controllerAddr := flags.String("controller-addr", envOr(controllerAddrEnv, "http://127.0.0.1:8085"), "URL of the controller API (env "+controllerAddrEnv+")")
	timeout := flags.Duration("controller-timeout", 3*time.Second, "bound on each request to the controller")
	showVersion := flags.Bool("version", false, "print the version and platform, then exit")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (see --help)\n", name, flags.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, buildinfo.Line(name, version))
		return 0
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "%s: --controller-timeout %v must be positive (e.g. 3s)\n", name, *timeout)
		return 2
	}
	handler, err := srv.NewHandler(srv.Config{Version: version, ControllerURL: *controllerAddr, Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "%s: --controller-addr: %v\n", name, err)
		return 2
	}
	if err := serve.Run(ctx, name, *addr, handler, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
