package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSimulatePrintsTheExactRules(t *testing.T) {
	code, out, errOut := runMain(t,
		"--simulate",
		"--incoming-proxy-port", "4143",
		"--outgoing-proxy-port", "4140",
		"--proxy-uid", "2102",
		"--inbound-ports-to-ignore", "4190-4191,9090",
		"--outbound-ports-to-ignore", "25,443",
	)
	if code != 0 {
		t.Fatalf("exit code %d, stderr: %s", code, errOut)
	}
	// Written by hand from the flags: ignored inbound ports return before the
	// inbound redirect; the proxy's uid and loopback return before the
	// ignored outbound ports and the outbound redirect; ranges use iptables'
	// colon spelling.
	want := `*nat
:PROXY_INIT_REDIRECT - [0:0]
:PROXY_INIT_OUTPUT - [0:0]
-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 4190:4191,9090 -j RETURN -m comment --comment "proxy-init/ignore-inbound-ports"
-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143 -m comment --comment "proxy-init/redirect-all-incoming-to-proxy-port"
-A PREROUTING -j PROXY_INIT_REDIRECT -m comment --comment "proxy-init/install-proxy-init-prerouting"
-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -j RETURN -m comment --comment "proxy-init/ignore-proxy-user-id"
-A PROXY_INIT_OUTPUT -o lo -j RETURN -m comment --comment "proxy-init/ignore-loopback"
-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 25,443 -j RETURN -m comment --comment "proxy-init/ignore-outbound-ports"
-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140 -m comment --comment "proxy-init/redirect-all-outgoing-to-proxy-port"
-A OUTPUT -j PROXY_INIT_OUTPUT -m comment --comment "proxy-init/install-proxy-init-output"
COMMIT
`
	if out != want {
		t.Errorf("--simulate output differs\n--- got ---\n%s--- want ---\n%s", out, want)
	}
}

func TestSimulateUsesLinkerdDefaults(t *testing.T) {
	code, out, _ := runMain(t, "--simulate")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"--to-port 4143 ", "--to-port 4140 ", "--uid-owner 2102 "} {
		if !strings.Contains(out, want) {
			t.Errorf("default rules lack %q:\n%s", want, out)
		}
	}
}

func TestBadFlagValuesExitTwoWithAClearError(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--incoming-proxy-port", "0"}, "--incoming-proxy-port: port 0 is out of range (want 1-65535)"},
		{[]string{"--outgoing-proxy-port", "70000"}, "--outgoing-proxy-port: port 70000 is out of range"},
		{[]string{"--incoming-proxy-port", "http"}, `invalid argument "http" for "--incoming-proxy-port" flag`},
		{[]string{"--proxy-uid", "-1"}, "--proxy-uid: -1 is negative"},
		{[]string{"--inbound-ports-to-ignore", "80,,443"}, "--inbound-ports-to-ignore: empty entry in port list"},
		{[]string{"--inbound-ports-to-ignore", "4191-4190"}, `--inbound-ports-to-ignore: bad port range "4191-4190"`},
		{[]string{"--outbound-ports-to-ignore", "smtp"}, `--outbound-ports-to-ignore: bad port range "smtp"`},
		{[]string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--simulate", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		code, out, errOut := runMain(t, c.args...)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2", c.args, code)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stderr %q does not contain %q", c.args, errOut, c.want)
		}
		if out != "" {
			t.Errorf("%v: printed rules despite the error: %q", c.args, out)
		}
	}
}

func TestHelpListsTheFlagsAndExitsZero(t *testing.T) {
	code, out, errOut := runMain(t, "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Usage:", "--incoming-proxy-port int", "--outbound-ports-to-ignore string", "--simulate"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help output lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionNamesTheBinaryVersionAndPlatform(t *testing.T) {
	code, out, _ := runMain(t, "--version")
	want := fmt.Sprintf("linkerd2-proxy-init dev %s/%s\n", runtime.GOOS, runtime.GOARCH)
	if runtime.GOARCH == "arm" {
		t.Skip("the host platform string carries a variant on arm")
	}
	if code != 0 || out != want {
		t.Errorf("--version: exit %d, output %q, want %q", code, out, want)
	}
}

func TestApplyFailsClearlyWithoutIptablesRestore(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, out, errOut := runMain(t)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"iptables-restore not found in PATH", "--simulate"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not contain %q", errOut, want)
		}
	}
	if out != "" {
		t.Errorf("stdout should be empty, got %q", out)
	}
}

// fakeRestore puts an iptables-restore script first in PATH. It records its
// arguments and stdin, then exits with the given code.
func fakeRestore(t *testing.T, exitCode int, message string) (argsFile, stdinFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	stdinFile = filepath.Join(dir, "stdin")
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" > %q\ncat > %q\necho %q >&2\nexit %d\n", argsFile, stdinFile, message, exitCode)
	if err := os.WriteFile(filepath.Join(dir, "iptables-restore"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile, stdinFile
}

func TestApplyFeedsTheRulesToIptablesRestore(t *testing.T) {
	argsFile, stdinFile := fakeRestore(t, 0, "")
	code, out, errOut := runMain(t, "--outbound-ports-to-ignore", "443")
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "iptables rules applied") {
		t.Errorf("stdout %q does not confirm the rules were applied", out)
	}
	args, _ := os.ReadFile(argsFile)
	if strings.TrimSpace(string(args)) != "--noflush" {
		t.Errorf("iptables-restore args = %q, want --noflush", args)
	}
	stdin, _ := os.ReadFile(stdinFile)
	_, simulated, _ := runMain(t, "--simulate", "--outbound-ports-to-ignore", "443")
	if string(stdin) != simulated {
		t.Errorf("iptables-restore received\n%s\nbut --simulate prints\n%s", stdin, simulated)
	}
}

func TestApplyReportsIptablesRestoreErrors(t *testing.T) {
	fakeRestore(t, 2, "Error occurred at line: 4")
	code, _, errOut := runMain(t)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(errOut, "iptables-restore failed") || !strings.Contains(errOut, "Error occurred at line: 4") {
		t.Errorf("stderr %q should carry iptables-restore's own message", errOut)
	}
}

// goTool finds the go command that runs these tests.
func goTool(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	path := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(path); err != nil {
		t.Skip("go command not found")
	}
	return path
}

// buildBinary compiles this module the way the release does, for the given
// GOARCH (and GOARM), from srcDir into out.
func buildBinary(t *testing.T, srcDir, out, goarch, goarm string) {
	t.Helper()
	// -buildvcs=false: otherwise Go stamps the git commit and "modified"
	// flag into the binary, so any uncommitted change anywhere in the
	// checkout would change the bytes.
	cmd := exec.Command(goTool(t), "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid= -X main.version=test-build", "-o", out, ".")
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s failed: %v\n%s", goarch, err, output)
	}
}

// The arm variant is not in the ELF header, so --version must read GOARM
// from the build. Cross-build and run under qemu-user, as the images do.
func TestCrossBuiltBinaryReportsItsPlatformUnderQemu(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds are slow; skipped with -short")
	}
	cases := []struct{ goarch, goarm, qemu, want string }{
		{"arm64", "", "qemu-aarch64-static", "linux/arm64"},
		{"arm", "7", "qemu-arm-static", "linux/arm/v7"},
	}
	for _, c := range cases {
		t.Run(c.goarch, func(t *testing.T) {
			qemu, err := exec.LookPath(c.qemu)
			if err != nil {
				t.Skipf("%s not installed", c.qemu)
			}
			bin := filepath.Join(t.TempDir(), "linkerd2-proxy-init")
			buildBinary(t, ".", bin, c.goarch, c.goarm)
			out, err := exec.Command(qemu, bin, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("running under %s: %v\n%s", c.qemu, err, out)
			}
			want := "linkerd2-proxy-init test-build " + c.want + "\n"
			if string(out) != want {
				t.Errorf("--version = %q, want %q", out, want)
			}
		})
	}
}

// Same sources must give the same bytes from any checkout path, or the
// per-arch cache and image digests would differ between machines.
func TestCrossBuildIsReproducibleAcrossCheckoutPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds are slow; skipped with -short")
	}
	copyDir := filepath.Join(t.TempDir(), "another", "checkout")
	copyModule(t, ".", copyDir)
	first := filepath.Join(t.TempDir(), "a")
	second := filepath.Join(t.TempDir(), "b")
	buildBinary(t, ".", first, "arm", "7")
	buildBinary(t, copyDir, second, "arm", "7")
	if sum(t, first) != sum(t, second) {
		t.Errorf("builds from %s and %s differ", ".", copyDir)
	}
}

func copyModule(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".go") && filepath.Base(path) != "go.mod" && filepath.Base(path) != "go.sum" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}

// Applies the rules for real with iptables-restore, inside a private network
// namespace so the machine's own rules are untouched, then reads them back.
func TestApplyLoadsTheRulesIntoTheKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare")
	}
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		t.Skip("needs iptables-restore")
	}
	if err := exec.Command(unshare, "-n", "true").Run(); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "linkerd2-proxy-init")
	buildBinary(t, ".", bin, runtime.GOARCH, "")
	script := fmt.Sprintf("%q --inbound-ports-to-ignore 4190-4191 --outbound-ports-to-ignore 443 && iptables -t nat -S", bin)
	out, err := exec.Command(unshare, "-n", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("applying in a network namespace failed: %v\n%s", err, out)
	}
	// iptables -S prints matches before the target, so these lines are
	// spelled the way the kernel reports them, not the way we wrote them.
	for _, want := range []string{
		"-A PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
		"-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 4190:4191 -m comment --comment \"proxy-init/ignore-inbound-ports\" -j RETURN",
		"-A PROXY_INIT_REDIRECT -p tcp -m comment --comment \"proxy-init/redirect-all-incoming-to-proxy-port\" -j REDIRECT --to-ports 4143",
		"-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment \"proxy-init/ignore-proxy-user-id\" -j RETURN",
		"-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 443 -m comment --comment \"proxy-init/ignore-outbound-ports\" -j RETURN",
		"-A PROXY_INIT_OUTPUT -p tcp -m comment --comment \"proxy-init/redirect-all-outgoing-to-proxy-port\" -j REDIRECT --to-ports 4140",
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("kernel rules lack\n  %s\nfull listing:\n%s", want, out)
		}
	}
}
