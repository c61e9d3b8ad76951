package srv

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"example.com/linkerd2/controller/server"
	"example.com/linkerd2/pkg/api"
)

func dashboardFor(t *testing.T, controllerURL string) http.Handler {
	t.Helper()
	h, err := NewHandler(Config{Version: "web-v1", ControllerURL: controllerURL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func getPage(t *testing.T, h http.Handler, path string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, rec.Header().Get("Content-Type"), string(body)
}

// A real controller handler behind a real HTTP server: the page must show
// what that controller answers right now.
func TestPageShowsTheControllersVersionAndWorkloads(t *testing.T) {
	controller := httptest.NewServer(server.NewHandler(server.Config{
		Version:  "ctl-v7",
		Platform: "linux/arm/v7",
		Workloads: []api.Workload{
			{Namespace: "books", Kind: "deployment", Name: "authors", MeshedPods: 1, TotalPods: 2},
			{Namespace: "books", Kind: "deployment", Name: "<script>alert(1)</script>", MeshedPods: 1, TotalPods: 1},
		},
	}))
	defer controller.Close()

	code, contentType, body := getPage(t, dashboardFor(t, controller.URL), "/")
	if code != http.StatusOK || contentType != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q\n%s", code, contentType, body)
	}
	for _, want := range []string{
		"Controller version <code>ctl-v7</code> on <code>linux/arm/v7</code>",
		"<td>books</td><td>deployment</td><td>authors</td><td>1/2</td>",
		"Dashboard version <code>web-v1</code>",
		controller.URL,
		// html/template must escape a hostile name, never emit it as markup.
		"&lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("page contains an unescaped <script> from the controller's data")
	}
}

func TestPageSaysWhenThereAreNoWorkloads(t *testing.T) {
	controller := httptest.NewServer(server.NewHandler(server.Config{Version: "v", Platform: "linux/amd64"}))
	defer controller.Close()
	_, _, body := getPage(t, dashboardFor(t, controller.URL), "/")
	if !strings.Contains(body, "No meshed workloads.") {
		t.Errorf("page:\n%s", body)
	}
}

func TestStoppedControllerGivesABadGatewayPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()

	code, contentType, body := getPage(t, dashboardFor(t, url), "/")
	if code != http.StatusBadGateway || !strings.HasPrefix(contentType, "text/html") {
		t.Fatalf("GET / = %d %q, want 502 text/html", code, contentType)
	}
	for _, want := range []string{"Controller unavailable", "cannot reach the controller at " + url} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}

func TestFailingControllerGivesABadGatewayPage(t *testing.T) {
	controller := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer controller.Close()
	code, _, body := getPage(t, dashboardFor(t, controller.URL), "/")
	if code != http.StatusBadGateway || !strings.Contains(body, "answered 503 Service Unavailable") {
		t.Errorf("GET / = %d\n%s", code, body)
	}
}

func TestReadyAndUnknownPaths(t *testing.T) {
	h := dashboardFor(t, "http://127.0.0.1:1")
	if code, _, _ := getPage(t, h, "/ready"); code != http.StatusOK {
		t.Errorf("/ready = %d, want 200 (readiness must not depend on the controller)", code)
	}
	if code, _, _ := getPage(t, h, "/nope"); code != http.StatusNotFound {
		t.Errorf("/nope = %d, want 404", code)
	}
}

func TestBadControllerURLIsRejected(t *testing.T) {
	_, err := NewHandler(Config{ControllerURL: "127.0.0.1:8085", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "not an http:// or https:// URL") {
		t.Errorf("NewHandler = %v", err)
	}
}
