package platform

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
		{"linux", "arm", "6", "linux/arm/v6"},
		{"linux", "arm", "", "linux/arm"},
		// GOARM is meaningless off arm and must not leak into the platform.
		{"linux", "arm64", "7", "linux/arm64"},
	}
	for _, c := range cases {
		if got := Format(c.goos, c.goarch, c.goarm); got != c.want {
			t.Errorf("Format(%q, %q, %q) = %q, want %q", c.goos, c.goarch, c.goarm, got, c.want)
		}
	}
}

func TestCurrentMatchesTheRuntime(t *testing.T) {
	got := Current()
	if !strings.HasPrefix(got, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("Current() = %q, want it to start with %s/%s", got, runtime.GOOS, runtime.GOARCH)
	}
}
