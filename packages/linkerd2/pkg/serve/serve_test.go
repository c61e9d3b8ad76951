package serve_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/linkerd2/pkg/serve"
	"example.com/linkerd2/pkg/serve/servetest"
)

func hello(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) }

func TestRunServesOnTheReportedAddressAndStopsCleanly(t *testing.T) {
	srv := servetest.Start(t, func(ctx context.Context, log io.Writer) int {
		if err := serve.Run(ctx, "test-server", "127.0.0.1:0", http.HandlerFunc(hello), log); err != nil {
			return 1
		}
		return 0
	})
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + srv.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body = %q", body)
	}
	if code := srv.Stop(t); code != 0 {
		t.Errorf("exit code after stop = %d, log:\n%s", code, srv.Log())
	}
	if !strings.Contains(srv.Log(), "test-server stopped") {
		t.Errorf("log does not report the stop:\n%s", srv.Log())
	}
	if _, err := client.Get("http://" + srv.Addr + "/"); err == nil {
		t.Error("server still answers after Stop")
	}
}

func TestRunReportsABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = serve.Run(context.Background(), "x", ln.Addr().String(), http.HandlerFunc(hello), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("Run on a busy address = %v", err)
	}
}
