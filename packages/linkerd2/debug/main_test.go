package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
)

func runDebug(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTCPCheckConnectsToAListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	code, out, errOut := runDebug("tcp-check", "--timeout", "2s", ln.Addr().String())
	if code != 0 || !strings.HasPrefix(out, "connected to "+ln.Addr().String()+" (") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestTCPCheckFailsOnAClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, out, errOut := runDebug("tcp-check", addr)
	if code != 1 || out != "" || !strings.Contains(errOut, "cannot connect to "+addr) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestResolve(t *testing.T) {
	// An IP literal resolves to itself without any name service.
	code, out, _ := runDebug("resolve", "127.0.0.1")
	if code != 0 || out != "127.0.0.1\n" {
		t.Errorf("resolve 127.0.0.1: exit %d, %q", code, out)
	}
	// localhost comes from /etc/hosts on every Linux machine we run on.
	code, out, errOut := runDebug("resolve", "localhost")
	if code != 0 || !(strings.Contains(out, "127.0.0.1") || strings.Contains(out, "::1")) {
		t.Errorf("resolve localhost: exit %d, %q %q", code, out, errOut)
	}
	// .invalid is reserved (RFC 2606) and must never resolve.
	code, _, errOut = runDebug("resolve", "--timeout", "2s", "no-such-host.invalid")
	if code != 1 || !strings.Contains(errOut, "cannot resolve no-such-host.invalid") {
		t.Errorf("resolve of a reserved invalid name: exit %d, %q", code, errOut)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"ping"}, `unknown command "ping"`},
		{[]string{"tcp-check"}, "want exactly one HOST:PORT argument, got 0"},
		{[]string{"tcp-check", "example"}, `"example" is not HOST:PORT`},
		{[]string{"resolve", "a", "b"}, "want exactly one NAME argument, got 2"},
		{[]string{"resolve", "--timeout", "-1s", "a"}, "--timeout -1s must be positive"},
	}
	for _, c := range cases {
		code, _, errOut := runDebug(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runDebug("--version")
	want := fmt.Sprintf("linkerd-debug dev %s/%s", runtime.GOOS, runtime.GOARCH)
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("--version: %d %q, want %q", code, out, want)
	}
}
