// Command linkerd2-proxy-init writes the iptables rules that send a pod's TCP
// traffic through the Linkerd proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	incoming := flags.Int("incoming-proxy-port", 4143, "port the proxy accepts inbound connections on")
	outgoing := flags.Int("outgoing-proxy-port", 4140, "port the proxy accepts outbound connections on")
	uid := flags.Int("proxy-uid", 2102, "user id the proxy runs as; its own traffic is not redirected")
	inboundIgnore := flags.String("inbound-ports-to-ignore", "", "inbound ports that bypass the proxy, e.g. 4190-4191,9090")
	outboundIgnore := flags.String("outbound-ports-to-ignore", "", "outbound ports that bypass the proxy, e.g. 25,443")
	simulate := flags.Bool("simulate", false, "print the iptables-restore input instead of applying it")
	showVersion := flags.Bool("version", false, "print the version and platform, then exit")

	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage // flag has already printed the problem and the usage
	}
	if flags.NArg() > 0 {
		return usageError(stderr, fmt.Errorf("unexpected argument %q (all settings are --flags; see --help)", flags.Arg(0)))
	}
	if *showVersion {
		fmt.Fprintf(stdout, "%s %s %s\n", name, version, platform.Current())
		return exitOK
	}

	cfg := iptables.Config{IncomingProxyPort: *incoming, OutgoingProxyPort: *outgoing, ProxyUID: *uid}
	var err error
	if cfg.InboundPortsToIgnore, err = ports.ParseList(*inboundIgnore); err != nil {
		return usageError(stderr, fmt.Errorf("--inbound-ports-to-ignore: %w", err))
	}
	if cfg.OutboundPortsToIgnore, err = ports.ParseList(*outboundIgnore); err != nil {
		return usageError(stderr, fmt.Errorf("--outbound-ports-to-ignore: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, err)
	}

	rules := iptables.Rules(cfg)
	if *simulate {
		fmt.Fprint(stdout, rules)
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	if err := iptables.Restore(ctx, rules); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s: iptables rules applied\n", name)
	return exitOK
}

func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return exitUsage
}
