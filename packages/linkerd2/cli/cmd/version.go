package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"example.com/linkerd2/pkg/api"
	"example.com/linkerd2/pkg/buildinfo"
)

func runVersion(ctx context.Context, env Env, args []string) int {
	flags := flag.NewFlagSet(Name+" version", flag.ContinueOnError)
	flags.SetOutput(env.Stderr)
	controller := flags.String("controller", "", "also ask the controller at this URL for its version")
	timeout := flags.Duration("timeout", 3*time.Second, "bound on the request to the controller")
	if code, done := parseFlags(flags, args, env); done {
		return code
	}
	fmt.Fprintf(env.Stdout, "Client version: %s\n", env.Version)
	fmt.Fprintf(env.Stdout, "Client platform: %s\n", buildinfo.Platform())
	if *controller == "" {
		return ExitOK
	}
	client, err := newClient(env, *controller, *timeout)
	if err != nil {
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	info, err := client.Version(ctx)
	if err != nil {
		fmt.Fprintf(env.Stdout, "Server version: unavailable\n")
		fmt.Fprintf(env.Stderr, "%s version: %v\n", Name, err)
		return ExitFail
	}
	fmt.Fprintf(env.Stdout, "Server version: %s\nServer platform: %s\n", info.Version, info.Platform)
	return ExitOK
}

// parseFlags parses a subcommand's flags; done means exit now with code.
func parseFlags(flags *flag.FlagSet, args []string, env Env) (code int, done bool) {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, true
		}
		return ExitUsage, true
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q (see %s --help)\n", flags.Name(), flags.Arg(0), flags.Name())
		return ExitUsage, true
	}
	return 0, false
}

// newClient reports a bad --controller or --timeout as a usage error.
func newClient(env Env, url string, timeout time.Duration) (*api.Client, error) {
	client, err := api.NewClient(url, timeout)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: --controller/--timeout: %v\n", Name, err)
	}
	return client, err
}
