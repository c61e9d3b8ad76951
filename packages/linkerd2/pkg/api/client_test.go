package api

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseControllerURL(t *testing.T) {
	good := map[string]string{
		"http://127.0.0.1:8085":   "http://127.0.0.1:8085",
		"http://127.0.0.1:8085/":  "http://127.0.0.1:8085",
		"https://[::1]:8085/base": "https://[::1]:8085/base",
	}
	for in, want := range good {
		got, err := ParseControllerURL(in)
		if err != nil || got != want {
			t.Errorf("ParseControllerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8085", "localhost:8085", "ftp://host", "http://", "http://h/?q=1", "::"} {
		_, err := ParseControllerURL(bad)
		if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:8085") {
			t.Errorf("ParseControllerURL(%q) error = %v; want one that shows the right spelling", bad, err)
		}
	}
}

func TestNewClientRejectsANonPositiveTimeout(t *testing.T) {
	if _, err := NewClient("http://127.0.0.1:8085", 0); err == nil {
		t.Error("a zero timeout was accepted")
	}
}

func serverAnswering(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientReadsVersionAndWorkloads(t *testing.T) {
	c := serverAnswering(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case VersionPath:
			_, _ = w.Write([]byte(`{"version":"v9","platform":"linux/arm/v7"}`))
		case WorkloadsPath:
			_, _ = w.Write([]byte(`{"workloads":[{"namespace":"ns","kind":"deployment","name":"a","meshedPods":1,"totalPods":2}]}`))
		default:
			http.NotFound(w, r)
		}
	})
	info, err := c.Version(context.Background())
	if err != nil || info != (VersionInfo{Version: "v9", Platform: "linux/arm/v7"}) {
		t.Errorf("Version() = %+v, %v", info, err)
	}
	ws, err := c.Workloads(context.Background())
	if err != nil || len(ws) != 1 || ws[0] != (Workload{Namespace: "ns", Kind: "deployment", Name: "a", MeshedPods: 1, TotalPods: 2}) {
		t.Errorf("Workloads() = %+v, %v", ws, err)
	}
}

func TestClientErrorsNameTheControllerAndTheProblem(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"html instead of json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html></html>"))
		}, `with "text/html", not JSON: is it the controller?`},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "answered 500 Internal Server Error on /api/version"},
		{"broken json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"version":`))
		}, "sent invalid JSON on /api/version"},
		{"empty version", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, "without a version or platform"},
	}
	for _, tc := range cases {
		c := serverAnswering(t, tc.handler)
		_, err := c.Version(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), c.URL()) {
			t.Errorf("%s: error = %v; want it to contain %q and %s", tc.name, err, tc.want, c.URL())
		}
	}
}

func TestReadyFailsOnANon200(t *testing.T) {
	c := serverAnswering(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	err := c.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable on /ready") {
		t.Errorf("Ready() = %v", err)
	}
}

func TestUnreachableControllerIsReportedWithItsURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c, _ := NewClient("http://"+addr, 2*time.Second)
	err = c.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the controller at http://"+addr) {
		t.Errorf("Ready() = %v", err)
	}
}

func TestAHungControllerIsCutOffByTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := NewClient(srv.URL, 200*time.Millisecond)
	start := time.Now()
	err := c.Ready(context.Background())
	if err == nil {
		t.Fatal("a hung controller was reported ready")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v; the 200ms timeout did not apply", elapsed)
	}
}
