// Command controller serves the Linkerd control plane's API.
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

	"example.com/linkerd2/controller/server"
	"example.com/linkerd2/pkg/buildinfo"
	"example.com/linkerd2/pkg/serve"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const name = "linkerd2-controller"

// addrEnv overrides the --addr default, for images whose entrypoint is fixed.
const addrEnv = "LINKERD2_CONTROLLER_ADDR"

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
	addr := flags.String("addr", envOr(addrEnv, "127.0.0.1:8085"), "address to serve the API on (env "+addrEnv+")")
	workloadsFile := flags.String("workloads-file", "", `JSON file of meshed workloads, {"workloads": [...]} (default: built-in sample data)`)
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

	workloads := server.SampleWorkloads()
	if *workloadsFile != "" {
		var err error
		if workloads, err = server.LoadWorkloads(*workloadsFile); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 2
		}
	}
	handler := server.NewHandler(server.Config{Version: version, Platform: buildinfo.Platform(), Workloads: workloads})
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
