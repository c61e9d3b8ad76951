package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every wait in this file is bounded by one of these.
const (
	buildTimeout   = 3 * time.Minute
	startTimeout   = 10 * time.Second
	commandTimeout = 30 * time.Second
	stopTimeout    = 10 * time.Second
)

const testVersion = "e2e-v1"

// ldflags are the release build's flags, with a version the tests can see.
var ldflags = "-s -w -buildid= -X main.version=" + testVersion

// binaries maps each main package (relative to the module root) to its
// binary name, as the images and the CLI release name them.
var binaries = map[string]string{
	"./controller": "controller",
	"./web":        "web",
	"./cli":        "linkerd",
	"./debug":      "linkerd-debug",
}

func goTool(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	path := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the go command is needed to build the binaries under test")
	}
	return path
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	registerSources.Do(registerSourcesWithTestCache)
	out, err := exec.Command(goTool(t), "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("cannot find the module root: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// build compiles one main package into dir with `go build`, for goarch
// (cross-compiled, CGO off, like the images) and returns the binary's path.
func build(t *testing.T, pkg, dir, goarch, goarm string) string {
	t.Helper()
	out := filepath.Join(dir, binaries[pkg])
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(t), "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s for %s: %v\n%s", pkg, goarch, err, output)
	}
	return out
}

func buildHost(t *testing.T, pkg string) string {
	t.Helper()
	return build(t, pkg, t.TempDir(), runtime.GOARCH, "")
}

func hostCLI(t *testing.T) string {
	t.Helper()
	return buildHost(t, "./cli")
}

// server is a started server process.
type server struct {
	cmd  *exec.Cmd
	addr string
	done chan error
	log  *bytes.Buffer
}

// startServer runs bin with --addr 127.0.0.1:0 and reads the address it bound
// from its "listening on" line.
func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	return startServerUnder(t, nil, bin, args...)
}

// startServerUnder is startServer with a launcher in front of bin, such as
// qemu-user for a foreign binary.
func startServerUnder(t *testing.T, launcher []string, bin string, args ...string) *server {
	t.Helper()
	argv := append(append(append([]string{}, launcher...), bin, "--addr", "127.0.0.1:0"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1), log: &bytes.Buffer{}}
	t.Cleanup(func() { s.stop(t) })

	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	deadline := time.After(startTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%s exited before listening:\n%s", bin, s.log)
			}
			s.log.WriteString(line + "\n")
			if _, addr, found := strings.Cut(line, "listening on "); found {
				s.addr = addr
				go func() { // keep draining so the process never blocks on stderr
					for range lines {
					}
				}()
				return s
			}
		case <-deadline:
			t.Fatalf("%s did not listen within %v:\n%s", bin, startTimeout, s.log)
		}
	}
}

// stop sends SIGTERM, as the kubelet does, and returns the exit error.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done: // already stopped
		s.done <- err
		return err
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		t.Errorf("process %d ignored SIGTERM for %v and was killed", s.cmd.Process.Pid, stopTimeout)
		return fmt.Errorf("killed")
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func runCommand(t *testing.T, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %v", bin, args, commandTimeout)
	}
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	return result{code, out.String(), errOut.String()}
}

// The acceptance test: the CLI's check passes against a running
// controller and fails clearly against a stopped one.
func TestCheckPassesAgainstARunningControllerAndFailsClearlyOnceItStops(t *testing.T) {
	controller := startServer(t, buildHost(t, "./controller"))
	linkerd := buildHost(t, "./cli")
	url := "http://" + controller.addr

	r := runCommand(t, linkerd, "check", "--controller", url)
	if r.code != 0 {
		t.Fatalf("check against a running controller: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantVersion := fmt.Sprintf("√ controller API reports its version: %s on %s/%s", testVersion, runtime.GOOS, runtime.GOARCH)
	for _, want := range []string{"√ controller is ready", wantVersion, "Status check results are √"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}

	if err := controller.stop(t); err != nil {
		t.Errorf("controller did not exit cleanly on SIGTERM: %v\n%s", err, controller.log)
	}

	r = runCommand(t, linkerd, "check", "--controller", url)
	if r.code != 1 {
		t.Errorf("check against a stopped controller: exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stdout, "× controller is ready") {
		t.Errorf("stdout does not mark the failed check:\n%s", r.stdout)
	}
	if want := "cannot reach the controller at " + url; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not name the controller's URL (%q):\n%s", want, r.stderr)
	}
}

func TestDashboardShowsTheLiveControllerAndA502WhenItStops(t *testing.T) {
	controller := startServer(t, buildHost(t, "./controller"))
	web := startServer(t, buildHost(t, "./web"), "--controller-addr", "http://"+controller.addr)
	client := http.Client{Timeout: commandTimeout}

	get := func() (int, string) {
		resp, err := client.Get("http://" + web.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	code, body := get()
	if code != 200 || !strings.Contains(body, "Controller version <code>"+testVersion+"</code>") || !strings.Contains(body, "<td>emojivoto</td>") {
		t.Errorf("dashboard with a running controller: %d\n%s", code, body)
	}
	if err := controller.stop(t); err != nil {
		t.Errorf("controller did not exit cleanly: %v", err)
	}
	code, body = get()
	if code != http.StatusBadGateway || !strings.Contains(body, "Controller unavailable") || !strings.Contains(body, controller.addr) {
		t.Errorf("dashboard with a stopped controller: %d\n%s", code, body)
	}
}

// Cross-compiled binaries run under qemu-user report the platform they were
// built for (arm's v7 comes from GOARM, recorded at build time), and the
// foreign controller really serves: the host CLI's check passes against it.
func TestCrossBuiltBinariesReportTheirPlatformUnderQemu(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds are slow; skipped with -short")
	}
	arches := []struct{ goarch, goarm, qemu, platform string }{
		{"arm64", "", "qemu-aarch64-static", "linux/arm64"},
		{"arm", "7", "qemu-arm-static", "linux/arm/v7"},
	}
	for _, a := range arches {
		a := a
		t.Run(a.goarch, func(t *testing.T) {
			qemu, err := exec.LookPath(a.qemu)
			if err != nil {
				t.Skipf("%s is not installed", a.qemu)
			}
			dir := t.TempDir()
			for pkg, name := range binaries {
				bin := build(t, pkg, dir, a.goarch, a.goarm)
				args := []string{bin, "--version"}
				want := name + " " + testVersion + " " + a.platform + "\n"
				switch name {
				case "linkerd":
					args = []string{bin, "version"}
					want = "Client version: " + testVersion + "\nClient platform: " + a.platform + "\n"
				case "controller":
					want = "linkerd2-controller " + testVersion + " " + a.platform + "\n"
				case "web":
					want = "linkerd2-web " + testVersion + " " + a.platform + "\n"
				}
				r := runCommand(t, qemu, args...)
				if r.code != 0 || r.stdout != want {
					t.Errorf("%s under %s: exit %d, %q, want %q (stderr %q)", name, a.qemu, r.code, r.stdout, want, r.stderr)
				}
			}

			controller := startServerUnder(t, []string{qemu}, filepath.Join(dir, "controller"))
			r := runCommand(t, hostCLI(t), "check", "--controller", "http://"+controller.addr)
			wantLine := "√ controller API reports its version: " + testVersion + " on " + a.platform
			if r.code != 0 || !strings.Contains(r.stdout, wantLine) {
				t.Errorf("check against the %s controller under qemu: exit %d, want a line %q\n%s%s", a.platform, r.code, wantLine, r.stdout, r.stderr)
			}
			if err := controller.stop(t); err != nil {
				t.Errorf("the %s controller did not stop cleanly on SIGTERM under qemu: %v", a.platform, err)
			}
		})
	}
}
