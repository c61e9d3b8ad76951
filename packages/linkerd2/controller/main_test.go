package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"example.com/linkerd2/pkg/api"
	"example.com/linkerd2/pkg/serve/servetest"
)

func start(t *testing.T, args ...string) *servetest.Running {
	t.Helper()
	return servetest.Start(t, func(ctx context.Context, stderr io.Writer) int {
		return run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, stderr)
	})
}

func getJSON(t *testing.T, url string, into interface{}) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %s %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

func TestServesSampleWorkloadsAndItsVersion(t *testing.T) {
	srv := start(t)
	var info api.VersionInfo
	getJSON(t, "http://"+srv.Addr+"/api/version", &info)
	if info.Version != "dev" || !strings.HasPrefix(info.Platform, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("version = %+v", info)
	}
	var list api.WorkloadList
	getJSON(t, "http://"+srv.Addr+"/api/v1/workloads", &list)
	if len(list.Workloads) == 0 {
		t.Error("no sample workloads served")
	}
	if code := srv.Stop(t); code != 0 {
		t.Errorf("exit code %d after a clean stop", code)
	}
}

func TestServesTheWorkloadsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	doc := `{"workloads":[{"namespace":"books","kind":"deployment","name":"authors","meshedPods":1,"totalPods":1}]}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := start(t, "--workloads-file", path)
	var list api.WorkloadList
	getJSON(t, "http://"+srv.Addr+"/api/v1/workloads", &list)
	if len(list.Workloads) != 1 || list.Workloads[0].Name != "authors" {
		t.Errorf("workloads = %+v", list.Workloads)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--version"}, &out, io.Discard)
	want := fmt.Sprintf("linkerd2-controller dev %s/%s", runtime.GOOS, runtime.GOARCH)
	if code != 0 || !strings.HasPrefix(out.String(), want) {
		t.Errorf("--version: %d %q, want %q", code, out.String(), want)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--workloads-file", filepath.Join(t.TempDir(), "missing.json")}, "--workloads-file: open"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve"}, `unexpected argument "serve"`},
	}
	for _, c := range cases {
		var errOut bytes.Buffer
		code := run(context.Background(), c.args, io.Discard, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}

func TestAddrFromEnvironment(t *testing.T) {
	t.Setenv(addrEnv, "127.0.0.1:0")
	srv := servetest.Start(t, func(ctx context.Context, stderr io.Writer) int {
		return run(ctx, nil, io.Discard, stderr)
	})
	if !strings.HasPrefix(srv.Addr, "127.0.0.1:") || srv.Addr == "127.0.0.1:8085" {
		t.Errorf("listening on %s, want the ephemeral address from %s", srv.Addr, addrEnv)
	}
}
