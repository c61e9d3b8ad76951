// Package ports parses the port lists that proxy-init accepts on its command
// line, such as "25,443,4190-4191".
package ports

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive range of TCP ports; a single port has First == Last.
type Range struct {
	First int
	Last  int
}

// IsSingle reports whether the range holds exactly one port.
func (r Range) IsSingle() bool { return r.First == r.Last }

// IptablesSpec renders the range the way iptables' multiport match spells it:
// "443" or "4190:4191".
func (r Range) IptablesSpec() string {
	if r.IsSingle() {
		return strconv.Itoa(r.First)
	}
	return fmt.Sprintf("%d:%d", r.First, r.Last)
}

// String renders the range the way the command line spells it.
func (r Range) String() string {
	if r.IsSingle() {
		return strconv.Itoa(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// ParseList parses a comma separated list of ports and port ranges. An empty
// (or all-blank) list means "no ports". Order is kept as written, so the
// generated rules read like the command that produced them.
func ParseList(list string) ([]Range, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var ranges []Range
	for _, item := range strings.Split(list, ",") {
		r, err := ParseRange(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		ranges = append(ranges, r)
	}
	return ranges, nil
}

// ParseRange parses "443" or "4190-4191".
func ParseRange(item string) (Range, error) {
	if item == "" {
		return Range{}, fmt.Errorf("empty entry in port list (remove the extra comma)")
	}
	first, last, isRange := strings.Cut(item, "-")
	lo, err := ParsePort(first)
	if err != nil {
		return Range{}, fmt.Errorf("bad port range %q: %w", item, err)
	}
	if !isRange {
		return Range{First: lo, Last: lo}, nil
	}
	hi, err := ParsePort(last)
	if err != nil {
		return Range{}, fmt.Errorf("bad port range %q: %w", item, err)
	}
	if lo > hi {
		return Range{}, fmt.Errorf("bad port range %q: the first port must not be greater than the last (write %d-%d)", item, hi, lo)
	}
	return Range{First: lo, Last: hi}, nil
}

// ParsePort parses one TCP port number, 1 to 65535.
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number (want 1-65535)", s)
	}
	if err := CheckPort(n); err != nil {
		return 0, err
	}
	return n, nil
}

// CheckPort rejects numbers outside the TCP port space.
func CheckPort(n int) error {
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %d is out of range (want 1-65535)", n)
	}
	return nil
}
