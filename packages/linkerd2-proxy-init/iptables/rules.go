// Package iptables turns proxy-init's configuration into the input of
// iptables-restore and applies it.
package iptables

import (
	"fmt"
	"strings"

	"example.com/linkerd2-proxy-init/ports"
)

// Chain names, shaped like Linkerd's: one chain for traffic entering the pod,
// one for traffic leaving it.
const (
	RedirectChain = "PROXY_INIT_REDIRECT"
	OutputChain   = "PROXY_INIT_OUTPUT"
)

// multiportMax is the kernel's limit on one multiport match: 15 slots, where a
// single port takes one slot and a range takes two. iptables-restore rejects
// the whole table with "too many ports specified" beyond it.
const multiportMax = 15

// Config is everything the rules depend on.
type Config struct {
	IncomingProxyPort     int
	OutgoingProxyPort     int
	ProxyUID              int
	InboundPortsToIgnore  []ports.Range
	OutboundPortsToIgnore []ports.Range
}

// Validate reports the first setting that cannot produce valid rules.
func (c Config) Validate() error {
	if err := ports.CheckPort(c.IncomingProxyPort); err != nil {
		return fmt.Errorf("--incoming-proxy-port: %w", err)
	}
	if err := ports.CheckPort(c.OutgoingProxyPort); err != nil {
		return fmt.Errorf("--outgoing-proxy-port: %w", err)
	}
	if c.ProxyUID < 0 {
		return fmt.Errorf("--proxy-uid: %d is negative (want the proxy's numeric user id, e.g. 2102)", c.ProxyUID)
	}
	return nil
}

// Rules renders the complete iptables-restore input for the nat table. The
// output depends only on the configuration, so --simulate is reproducible.
func Rules(c Config) string {
	var b strings.Builder
	line := func(format string, args ...interface{}) {
		fmt.Fprintf(&b, format+"\n", args...)
	}
	comment := func(name string) string {
		return fmt.Sprintf(`-m comment --comment "proxy-init/%s"`, name)
	}

	line("*nat")
	line(":%s - [0:0]", RedirectChain)
	line(":%s - [0:0]", OutputChain)

	// Inbound: every TCP connection entering the pod goes to the proxy's
	// inbound port, except the ports the user asked to leave alone.
	for _, group := range multiportGroups(c.InboundPortsToIgnore) {
		line("-A %s -p tcp -m multiport --dports %s -j RETURN %s", RedirectChain, group, comment("ignore-inbound-ports"))
	}
	line("-A %s -p tcp -j REDIRECT --to-port %d %s", RedirectChain, c.IncomingProxyPort, comment("redirect-all-incoming-to-proxy-port"))
	line("-A PREROUTING -j %s %s", RedirectChain, comment("install-proxy-init-prerouting"))

	// Outbound: the proxy's own connections must leave untouched, or they
	// would loop back into the proxy forever.
	line("-A %s -m owner --uid-owner %d -j RETURN %s", OutputChain, c.ProxyUID, comment("ignore-proxy-user-id"))
	line("-A %s -o lo -j RETURN %s", OutputChain, comment("ignore-loopback"))
	for _, group := range multiportGroups(c.OutboundPortsToIgnore) {
		line("-A %s -p tcp -m multiport --dports %s -j RETURN %s", OutputChain, group, comment("ignore-outbound-ports"))
	}
	line("-A %s -p tcp -j REDIRECT --to-port %d %s", OutputChain, c.OutgoingProxyPort, comment("redirect-all-outgoing-to-proxy-port"))
	line("-A OUTPUT -j %s %s", OutputChain, comment("install-proxy-init-output"))

	line("COMMIT")
	return b.String()
}

// multiportGroups splits the ranges into multiport arguments that each fit
// the kernel's slot limit.
func multiportGroups(ranges []ports.Range) []string {
	var groups []string
	var current []string
	used := 0
	for _, r := range ranges {
		cost := 2
		if r.IsSingle() {
			cost = 1
		}
		if used+cost > multiportMax {
			groups = append(groups, strings.Join(current, ","))
			current, used = nil, 0
		}
		current = append(current, r.IptablesSpec())
		used += cost
	}
	if len(current) > 0 {
		groups = append(groups, strings.Join(current, ","))
	}
	return groups
}
