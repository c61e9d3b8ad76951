package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"example.com/linkerd2/pkg/api"
)

const (
	okMark   = "√"
	failMark = "×"
)

// check is one line of `linkerd check`. run returns a detail shown after the
// description on success, or the reason it failed.
type check struct {
	description string
	run         func(ctx context.Context, c *api.Client) (detail string, err error)
}

// controllerChecks run in order; once one fails the rest are reported as
// skipped, since each builds on the one before.
var controllerChecks = []check{
	{"controller is ready", func(ctx context.Context, c *api.Client) (string, error) {
		return "", c.Ready(ctx)
	}},
	{"controller API reports its version", func(ctx context.Context, c *api.Client) (string, error) {
		info, err := c.Version(ctx)
		return fmt.Sprintf("%s on %s", info.Version, info.Platform), err
	}},
	{"controller API lists meshed workloads", func(ctx context.Context, c *api.Client) (string, error) {
		workloads, err := c.Workloads(ctx)
		return fmt.Sprintf("%d workloads", len(workloads)), err
	}},
}

type checkOptions struct {
	controller string
	timeout    time.Duration
}

func newCheckCmd(env Env) *cobra.Command {
	opts := checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that the controller is reachable and healthy",
		Args:  exactlyNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.controller, "controller", DefaultControllerURL, "URL of the controller API")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", defaultTimeout, "bound on each request to the controller")
	return cmd
}

func runCheck(ctx context.Context, env Env, opts checkOptions) error {
	client, err := newClient(opts.controller, opts.timeout)
	if err != nil {
		return err
	}

	fmt.Fprintf(env.Stdout, "linkerd-controller (%s)\n", client.URL())
	var failed error
	for _, c := range controllerChecks {
		if failed != nil {
			fmt.Fprintf(env.Stdout, "%s %s\n    skipped: an earlier check failed\n", failMark, c.description)
			continue
		}
		// Each check gets its own deadline so one slow answer cannot eat the
		// budget of the others; the whole command stays bounded.
		checkCtx, cancel := context.WithTimeout(ctx, opts.timeout)
		detail, err := c.run(checkCtx, client)
		cancel()
		if err != nil {
			failed = err
			fmt.Fprintf(env.Stdout, "%s %s\n    %v\n", failMark, c.description, err)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s %s: %s\n", okMark, c.description, detailOr(detail, "ok"))
	}

	if failed != nil {
		fmt.Fprintf(env.Stdout, "\nStatus check results are %s\n", failMark)
		// Every client error names the controller's URL, so this line alone
		// says what failed and where, even with stdout discarded.
		fmt.Fprintf(env.Stderr, "%s check failed: %v\n    start the controller, or point --controller at a running one\n", Name, failed)
		return failure{failed}
	}
	fmt.Fprintf(env.Stdout, "\nStatus check results are %s\n", okMark)
	return nil
}

func detailOr(detail, fallback string) string {
	if detail == "" {
		return fallback
	}
	return detail
}
