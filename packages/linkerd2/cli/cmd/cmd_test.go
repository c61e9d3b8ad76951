package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"example.com/linkerd2/controller/server"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Env{Version: "cli-v1", Stdout: &out, Stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

// runningController serves the real controller handler on 127.0.0.1.
func runningController(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(server.NewHandler(server.Config{Version: "ctl-v2", Platform: "linux/arm64", Workloads: server.SampleWorkloads()}))
	t.Cleanup(srv.Close)
	return srv
}

// stoppedControllerURL is an address where a controller listened a moment ago.
func stoppedControllerURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func TestCheckPassesAgainstARunningController(t *testing.T) {
	ctl := runningController(t)
	code, out, errOut := runCLI("check", "--controller", ctl.URL)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"√ controller is ready: ok\n",
		"√ controller API reports its version: ctl-v2 on linux/arm64\n",
		fmt.Sprintf("√ controller API lists meshed workloads: %d workloads\n", len(server.SampleWorkloads())),
		"Status check results are √\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "×") || errOut != "" {
		t.Errorf("a passing check reported a failure:\n%s\n%s", out, errOut)
	}
}

func TestCheckFailsClearlyAgainstAStoppedController(t *testing.T) {
	url := stoppedControllerURL(t)
	code, out, errOut := runCLI("check", "--controller", url)
	if code != ExitFail {
		t.Errorf("exit %d, want %d", code, ExitFail)
	}
	if !strings.Contains(out, "× controller is ready\n") || !strings.Contains(out, "Status check results are ×") {
		t.Errorf("stdout does not mark the failure:\n%s", out)
	}
	if strings.Contains(out, "√") {
		t.Errorf("a check passed against a stopped controller:\n%s", out)
	}
	for _, want := range []string{"linkerd check failed: cannot reach the controller at " + url, "connection refused", "start the controller"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestCheckFailsAgainstAnUnhealthyController(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	code, _, errOut := runCLI("check", "--controller", sick.URL)
	if code != ExitFail || !strings.Contains(errOut, "the controller at "+sick.URL+" answered 503 Service Unavailable on /ready") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestCheckGivesUpOnAHungControllerWithinItsTimeout(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	start := time.Now()
	code, _, errOut := runCLI("check", "--controller", hung.URL, "--timeout", "300ms")
	if code != ExitFail {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	// Later checks are skipped after the first failure, so one timeout is the whole wait.
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("check took %v with a 300ms timeout", elapsed)
	}
}

func TestCheckRejectsABadControllerURL(t *testing.T) {
	code, _, errOut := runCLI("check", "--controller", "127.0.0.1:8085")
	if code != ExitUsage || !strings.Contains(errOut, "not an http:// or https:// URL (write it like http://127.0.0.1:8085)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersionPrintsClientVersionAndPlatform(t *testing.T) {
	code, out, _ := runCLI("version")
	wantPlatform := runtime.GOOS + "/" + runtime.GOARCH
	if code != ExitOK || !strings.Contains(out, "Client version: cli-v1\n") || !strings.Contains(out, "Client platform: "+wantPlatform) {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "Server") {
		t.Errorf("version without --controller must not talk to a server:\n%s", out)
	}
}

func TestVersionAsksTheControllerWhenGivenOne(t *testing.T) {
	ctl := runningController(t)
	code, out, _ := runCLI("version", "--controller", ctl.URL)
	if code != ExitOK || !strings.Contains(out, "Server version: ctl-v2\nServer platform: linux/arm64\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
	url := stoppedControllerURL(t)
	code, out, errOut := runCLI("version", "--controller", url)
	if code != ExitFail || !strings.Contains(out, "Server version: unavailable") || !strings.Contains(errOut, url) {
		t.Errorf("stopped controller: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"instal"}, `unknown command "instal"`},
		{[]string{"check", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"check", "extra"}, `unexpected argument "extra"`},
		{[]string{"check", "--timeout", "0s"}, "must be positive"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, ExitUsage, c.want)
		}
	}
}

func TestHelpAndVersionFlagAtTheRoot(t *testing.T) {
	code, out, errOut := runCLI("--help")
	if code != ExitOK || errOut != "" || !strings.Contains(out, "check") || !strings.Contains(out, "version") {
		t.Errorf("--help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI("--version")
	if code != ExitOK || !strings.Contains(out, "Client version: cli-v1\n") {
		t.Errorf("--version: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("check", "--help")
	if code != ExitOK || !strings.Contains(out, "--controller string") || !strings.Contains(out, "--timeout duration") {
		t.Errorf("check --help: exit %d\n%s", code, out)
	}
}
