package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"example.com/linkerd2/controller/server"
	"example.com/linkerd2/pkg/serve/servetest"
)

func TestServesTheDashboardOnTheGivenAddress(t *testing.T) {
	controller := httptest.NewServer(server.NewHandler(server.Config{Version: "ctl-v1", Platform: "linux/amd64", Workloads: server.SampleWorkloads()}))
	defer controller.Close()
	web := servetest.Start(t, func(ctx context.Context, stderr io.Writer) int {
		return run(ctx, []string{"--addr", "127.0.0.1:0", "--controller-addr", controller.URL}, io.Discard, stderr)
	})
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + web.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ctl-v1") {
		t.Errorf("GET / = %s\n%s", resp.Status, body)
	}
	if code := web.Stop(t); code != 0 {
		t.Errorf("exit %d after a clean stop", code)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--version"}, &out, io.Discard)
	want := fmt.Sprintf("linkerd2-web dev %s/%s", runtime.GOOS, runtime.GOARCH)
	if code != 0 || !strings.HasPrefix(out.String(), want) {
		t.Errorf("--version: %d %q, want %q", code, out.String(), want)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--controller-addr", "localhost:8085"}, "--controller-addr: controller address \"localhost:8085\" is not an http:// or https:// URL"},
		{[]string{"--controller-timeout", "0s"}, "--controller-timeout 0s must be positive"},
		{[]string{"--controller-timeout", "soon"}, `invalid value "soon"`},
	}
	for _, c := range cases {
		var errOut bytes.Buffer
		code := run(context.Background(), c.args, io.Discard, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}
