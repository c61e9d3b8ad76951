package ports

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseListAcceptsPortsAndRanges(t *testing.T) {
	cases := map[string][]Range{
		"":                  nil,
		"  ":                nil,
		"443":               {{443, 443}},
		"4190-4191":         {{4190, 4191}},
		"25, 443,4190-4191": {{25, 25}, {443, 443}, {4190, 4191}},
		"1-65535":           {{1, 65535}},
		"8080-8080":         {{8080, 8080}},
	}
	for input, want := range cases {
		got, err := ParseList(input)
		if err != nil {
			t.Errorf("ParseList(%q): unexpected error %v", input, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseList(%q) = %v, want %v", input, got, want)
		}
	}
}

func TestParseListRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		"80,,443":    "empty entry",
		"80,":        "empty entry",
		"http":       `"http" is not a port number`,
		"0":          "port 0 is out of range",
		"65536":      "port 65536 is out of range",
		"-5":         `"" is not a port number`,
		"10-5":       "must not be greater than the last (write 5-10)",
		"1-2-3":      `"2-3" is not a port number`,
		"4190-":      `"" is not a port number`,
		"4190-7000x": `"7000x" is not a port number`,
	}
	for input, want := range cases {
		_, err := ParseList(input)
		if err == nil {
			t.Errorf("ParseList(%q): expected an error containing %q, got none", input, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseList(%q) error = %q, want it to contain %q", input, err, want)
		}
	}
}

func TestRangeSpellings(t *testing.T) {
	r := Range{First: 4190, Last: 4191}
	if got := r.IptablesSpec(); got != "4190:4191" {
		t.Errorf("IptablesSpec = %q, want 4190:4191", got)
	}
	if got := r.String(); got != "4190-4191" {
		t.Errorf("String = %q, want 4190-4191", got)
	}
	single := Range{First: 443, Last: 443}
	if got := single.IptablesSpec(); got != "443" {
		t.Errorf("IptablesSpec = %q, want 443", got)
	}
}
