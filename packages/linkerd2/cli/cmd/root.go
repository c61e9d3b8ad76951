// Package cmd is the linkerd command line: `linkerd version` and
// `linkerd check`. It is a package, not main, so tests run the same code
// path the binary runs.
package cmd

import (
	"context"
	"fmt"
	"io"
)

// Exit codes: 1 when a check or request fails, 2 when the command is used wrongly.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Name is the binary's name, as messages show it.
const Name = "linkerd"

// DefaultControllerURL is where `linkerd check` looks without --controller.
const DefaultControllerURL = "http://127.0.0.1:8085"

// Env is what the commands read and write.
type Env struct {
	Version string // the client's build version
	Stdout  io.Writer
	Stderr  io.Writer
}

// Run executes one command line and returns its exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "version", "--version", "-version":
		return runVersion(ctx, env, args[1:])
	case "check":
		return runCheck(ctx, env, args[1:])
	case "help", "--help", "-help", "-h":
		usage(env.Stdout)
		return ExitOK
	default:
		fmt.Fprintf(env.Stderr, "%s: unknown command %q\n", Name, args[0])
		usage(env.Stderr)
		return ExitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  %[1]s version [--controller URL]   print the client's version and platform (and the controller's)
  %[1]s check [--controller URL]     check that the controller is reachable and healthy
Run "%[1]s <command> --help" for the flags of a command.
`, Name)
}
