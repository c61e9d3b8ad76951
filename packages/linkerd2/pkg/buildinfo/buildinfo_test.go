package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	cases := []struct{ goos, goarch, goarm, want string }{
		{"linux", "amd64", "", "linux/amd64"},
		{"linux", "arm64", "", "linux/arm64"},
		{"linux", "arm", "7", "linux/arm/v7"},
		{"linux", "arm", "", "linux/arm"},
		{"linux", "arm64", "7", "linux/arm64"},
	}
	for _, c := range cases {
		if got := Format(c.goos, c.goarch, c.goarm); got != c.want {
			t.Errorf("Format(%q, %q, %q) = %q, want %q", c.goos, c.goarch, c.goarm, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	got := Line("linkerd2-controller", "v1.2.3")
	want := "linkerd2-controller v1.2.3 " + runtime.GOOS + "/" + runtime.GOARCH
	if !strings.HasPrefix(got, want) {
		t.Errorf("Line = %q, want it to start with %q", got, want)
	}
}
