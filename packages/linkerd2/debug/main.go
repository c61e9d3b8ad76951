// Command linkerd-debug is the network debugging tool of the debug image:
// it checks from inside a pod what the pod can reach.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"time"

	"example.com/linkerd2/pkg/buildinfo"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const name = "linkerd-debug"

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, buildinfo.Line(name, version))
		return exitOK
	case "tcp-check":
		return tcpCheck(ctx, args[1:], stdout, stderr)
	case "resolve":
		return resolve(ctx, args[1:], stdout, stderr)
	case "help", "--help", "-help", "-h":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "%s: unknown command %q\n", name, args[0])
		usage(stderr)
		return exitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  %[1]s tcp-check [--timeout 3s] HOST:PORT   open a TCP connection and report how long it took
  %[1]s resolve [--timeout 3s] NAME          print the addresses NAME resolves to
  %[1]s --version                            print the version and platform
`, name)
}

// parseOneArg parses a subcommand's --timeout and its single argument.
func parseOneArg(command, argName string, args []string, stderr io.Writer) (arg string, timeout time.Duration, code int, done bool) {
	flags := flag.NewFlagSet(name+" "+command, flag.ContinueOnError)
	flags.SetOutput(stderr)
	t := flags.Duration("timeout", 3*time.Second, "give up after this long")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, exitOK, true
		}
		return "", 0, exitUsage, true
	}
	if flags.NArg() != 1 {
		fmt.Fprintf(stderr, "%s %s: want exactly one %s argument, got %d\n", name, command, argName, flags.NArg())
		return "", 0, exitUsage, true
	}
	if *t <= 0 {
		fmt.Fprintf(stderr, "%s %s: --timeout %v must be positive (e.g. 3s)\n", name, command, *t)
		return "", 0, exitUsage, true
	}
	return flags.Arg(0), *t, 0, false
}

func tcpCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	target, timeout, code, done := parseOneArg("tcp-check", "HOST:PORT", args, stderr)
	if done {
		return code
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		fmt.Fprintf(stderr, "%s tcp-check: %q is not HOST:PORT (e.g. linkerd-controller:8085 or [::1]:4191): %v\n", name, target, err)
		return exitUsage
	}
	dialer := net.Dialer{Timeout: timeout}
	start := time.Now()
	conn, err := dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		fmt.Fprintf(stderr, "%s tcp-check: cannot connect to %s: %v\n", name, target, err)
		return exitFail
	}
	elapsed := time.Since(start)
	remote := conn.RemoteAddr().String()
	conn.Close()
	fmt.Fprintf(stdout, "connected to %s (%s) in %s\n", target, remote, elapsed.Round(time.Microsecond))
	return exitOK
}

func resolve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	host, timeout, code, done := parseOneArg("resolve", "NAME", args, stderr)
	if done {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		fmt.Fprintf(stderr, "%s resolve: cannot resolve %s: %v\n", name, host, err)
		return exitFail
	}
	for _, a := range addrs {
		fmt.Fprintln(stdout, a)
	}
	return exitOK
}
