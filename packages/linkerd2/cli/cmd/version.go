package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"example.com/linkerd2/pkg/api"
	"example.com/linkerd2/pkg/buildinfo"
)

const defaultTimeout = 3 * time.Second

type versionOptions struct {
	controller string
	timeout    time.Duration
}

func newVersionCmd(env Env) *cobra.Command {
	opts := versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client's version and platform (and the controller's)",
		Args:  exactlyNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.controller, "controller", "", "also ask the controller at this URL for its version")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", defaultTimeout, "bound on the request to the controller")
	return cmd
}

func runVersion(ctx context.Context, env Env, opts versionOptions) error {
	fmt.Fprintf(env.Stdout, "Client version: %s\n", env.Version)
	fmt.Fprintf(env.Stdout, "Client platform: %s\n", buildinfo.Platform())
	if opts.controller == "" {
		return nil
	}
	client, err := newClient(opts.controller, opts.timeout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	info, err := client.Version(ctx)
	if err != nil {
		fmt.Fprintf(env.Stdout, "Server version: unavailable\n")
		fmt.Fprintf(env.Stderr, "%s version: %v\n", Name, err)
		return failure{err}
	}
	fmt.Fprintf(env.Stdout, "Server version: %s\nServer platform: %s\n", info.Version, info.Platform)
	return nil
}

// newClient reports a bad --controller or --timeout as a usage error.
func newClient(url string, timeout time.Duration) (*api.Client, error) {
	client, err := api.NewClient(url, timeout)
	if err != nil {
		return nil, fmt.Errorf("--controller/--timeout: %w", err)
	}
	return client, nil
}
