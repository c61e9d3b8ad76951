// Command linkerd2-proxy-init writes the iptables rules that send a pod's TCP
// traffic through the Linkerd proxy.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"example.com/linkerd2-proxy-init/iptables"
	"example.com/linkerd2-proxy-init/platform"
	"example.com/linkerd2-proxy-init/ports"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const name = "linkerd2-proxy-init"

// Exit codes: 2 is the usual code for a command used wrongly.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// restoreTimeout bounds iptables-restore, which can block on the xtables lock.
const restoreTimeout = 30 * time.Second

// usageError marks a command used wrongly (exit 2); any other error is a
// failure to apply the rules (exit 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// options are the command line's settings, named as Linkerd's proxy-init names them.
type options struct {
	incomingProxyPort     int
	outgoingProxyPort     int
	proxyUID              int
	inboundPortsToIgnore  string
	outboundPortsToIgnore string
	simulate              bool
	showVersion           bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var usage usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitError
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := options{}
	cmd := &cobra.Command{
		Use:   name,
		Short: "Write the iptables rules that send a pod's TCP traffic through the Linkerd proxy",
		// Errors are printed once, by run, with the exit code they deserve.
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unexpected argument %q (all settings are --flags; see --help)", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return apply(cmd.Context(), opts, stdout)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	flags := cmd.Flags()
	flags.IntVar(&opts.incomingProxyPort, "incoming-proxy-port", 4143, "port the proxy accepts inbound connections on")
	flags.IntVar(&opts.outgoingProxyPort, "outgoing-proxy-port", 4140, "port the proxy accepts outbound connections on")
	flags.IntVar(&opts.proxyUID, "proxy-uid", 2102, "user id the proxy runs as; its own traffic is not redirected")
	flags.StringVar(&opts.inboundPortsToIgnore, "inbound-ports-to-ignore", "", "inbound ports that bypass the proxy, e.g. 4190-4191,9090")
	flags.StringVar(&opts.outboundPortsToIgnore, "outbound-ports-to-ignore", "", "outbound ports that bypass the proxy, e.g. 25,443")
	flags.BoolVar(&opts.simulate, "simulate", false, "print the iptables-restore input instead of applying it")
	flags.BoolVar(&opts.showVersion, "version", false, "print the version and platform, then exit")
	return cmd
}

func apply(ctx context.Context, opts options, stdout io.Writer) error {
	if opts.showVersion {
		fmt.Fprintf(stdout, "%s %s %s\n", name, version, platform.Current())
		return nil
	}
	cfg := iptables.Config{IncomingProxyPort: opts.incomingProxyPort, OutgoingProxyPort: opts.outgoingProxyPort, ProxyUID: opts.proxyUID}
	var err error
	if cfg.InboundPortsToIgnore, err = ports.ParseList(opts.inboundPortsToIgnore); err != nil {
		return usageError{fmt.Errorf("--inbound-ports-to-ignore: %w", err)}
	}
	if cfg.OutboundPortsToIgnore, err = ports.ParseList(opts.outboundPortsToIgnore); err != nil {
		return usageError{fmt.Errorf("--outbound-ports-to-ignore: %w", err)}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}

	rules := iptables.Rules(cfg)
	if opts.simulate {
		fmt.Fprint(stdout, rules)
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	if err := iptables.Restore(ctx, rules); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: iptables rules applied\n", name)
	return nil
}
