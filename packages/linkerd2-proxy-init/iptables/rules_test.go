package iptables

import (
	"os/exec"
	"strings"
	"testing"

	"example.com/linkerd2-proxy-init/ports"
)

func singles(from, to int) []ports.Range {
	var rs []ports.Range
	for p := from; p <= to; p++ {
		rs = append(rs, ports.Range{First: p, Last: p})
	}
	return rs
}

func TestRulesWithoutIgnoredPortsHaveNoMultiportReturns(t *testing.T) {
	got := Rules(Config{IncomingProxyPort: 8081, OutgoingProxyPort: 8080, ProxyUID: 1000})
	want := `*nat
:PROXY_INIT_REDIRECT - [0:0]
:PROXY_INIT_OUTPUT - [0:0]
-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 8081 -m comment --comment "proxy-init/redirect-all-incoming-to-proxy-port"
-A PREROUTING -j PROXY_INIT_REDIRECT -m comment --comment "proxy-init/install-proxy-init-prerouting"
-A PROXY_INIT_OUTPUT -m owner --uid-owner 1000 -j RETURN -m comment --comment "proxy-init/ignore-proxy-user-id"
-A PROXY_INIT_OUTPUT -o lo -j RETURN -m comment --comment "proxy-init/ignore-loopback"
-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 8080 -m comment --comment "proxy-init/redirect-all-outgoing-to-proxy-port"
-A OUTPUT -j PROXY_INIT_OUTPUT -m comment --comment "proxy-init/install-proxy-init-output"
COMMIT
`
	if got != want {
		t.Errorf("rules differ\n--- got ---\n%s--- want ---\n%s", got, want)
	}
}

func TestMultiportGroupsStayWithinFifteenSlots(t *testing.T) {
	// 20 single ports: the first 15 fill one match, the last 5 the next.
	got := multiportGroups(singles(1, 20))
	want := []string{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", "16,17,18,19,20"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("groups = %q, want %q", got, want)
	}

	// 14 single ports take 14 slots; a range needs two, so it starts a new match.
	mixed := append(singles(1, 14), ports.Range{First: 100, Last: 200})
	got = multiportGroups(mixed)
	want = []string{"1,2,3,4,5,6,7,8,9,10,11,12,13,14", "100:200"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("groups = %q, want %q", got, want)
	}

	// 13 singles plus one range is exactly 15 slots: one match.
	exact := append(singles(1, 13), ports.Range{First: 100, Last: 200})
	if got := multiportGroups(exact); len(got) != 1 {
		t.Errorf("13 ports and a range should fit one match, got %q", got)
	}
}

func TestValidateNamesTheBadFlag(t *testing.T) {
	good := Config{IncomingProxyPort: 4143, OutgoingProxyPort: 4140, ProxyUID: 2102}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	cases := []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.IncomingProxyPort = 0 }, "--incoming-proxy-port: port 0 is out of range"},
		{func(c *Config) { c.OutgoingProxyPort = 65536 }, "--outgoing-proxy-port: port 65536 is out of range"},
		{func(c *Config) { c.ProxyUID = -1 }, "--proxy-uid: -1 is negative"},
	}
	for _, tc := range cases {
		c := good
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
		}
	}
}

// The real iptables-restore parses the generated rules in a private network
// namespace (so the machine's own rules are never touched). This catches
// syntax the kernel's matches reject, such as an over-long multiport list.
func TestRulesAreAcceptedByIptablesRestore(t *testing.T) {
	unshare, err1 := exec.LookPath("unshare")
	restore, err2 := exec.LookPath("iptables-restore")
	if err1 != nil || err2 != nil {
		t.Skip("needs unshare and iptables-restore")
	}
	if err := exec.Command(unshare, "-n", "true").Run(); err != nil {
		t.Skipf("cannot create a network namespace here (needs root or user namespaces): %v", err)
	}
	rules := Rules(Config{
		IncomingProxyPort:     4143,
		OutgoingProxyPort:     4140,
		ProxyUID:              2102,
		InboundPortsToIgnore:  append(singles(2000, 2020), ports.Range{First: 4190, Last: 4191}),
		OutboundPortsToIgnore: []ports.Range{{First: 25, Last: 25}, {First: 443, Last: 443}},
	})
	cmd := exec.Command(unshare, "-n", restore, "--test")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("iptables-restore --test rejected the rules: %v\n%s\nrules:\n%s", err, out, rules)
	}
}
