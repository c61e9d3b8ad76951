package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"example.com/linkerd2/pkg/api"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

var testWorkloads = []api.Workload{
	{Namespace: "shop", Kind: "deployment", Name: "cart", MeshedPods: 2, TotalPods: 3},
	{Namespace: "shop", Kind: "statefulset", Name: "db", MeshedPods: 1, TotalPods: 1},
}

func newTestHandler() http.Handler {
	return NewHandler(Config{Version: "v2.3.4", Platform: "linux/arm64", Workloads: testWorkloads})
}

func TestReady(t *testing.T) {
	rec := get(t, newTestHandler(), http.MethodGet, "/ready")
	if rec.Code != http.StatusOK {
		t.Errorf("/ready = %d, want 200", rec.Code)
	}
}

func TestVersionIsJSON(t *testing.T) {
	rec := get(t, newTestHandler(), http.MethodGet, "/api/version")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("/api/version = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Decode into a plain map so the test checks the wire names, not our struct tags.
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["version"] != "v2.3.4" || body["platform"] != "linux/arm64" || len(body) != 2 {
		t.Errorf("/api/version body = %v", body)
	}
}

func TestWorkloadsListsTheConfiguredWorkloads(t *testing.T) {
	rec := get(t, newTestHandler(), http.MethodGet, "/api/v1/workloads")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("/api/v1/workloads = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var body struct {
		Workloads []map[string]interface{} `json:"workloads"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Workloads) != 2 {
		t.Fatalf("got %d workloads, want 2: %s", len(body.Workloads), rec.Body)
	}
	cart := body.Workloads[0]
	if cart["namespace"] != "shop" || cart["name"] != "cart" || cart["kind"] != "deployment" || cart["meshedPods"] != 2.0 || cart["totalPods"] != 3.0 {
		t.Errorf("first workload = %v", cart)
	}
}

func TestNoWorkloadsIsAnEmptyListNotNull(t *testing.T) {
	rec := get(t, NewHandler(Config{Version: "v", Platform: "p"}), http.MethodGet, "/api/v1/workloads")
	if !strings.Contains(rec.Body.String(), `"workloads": []`) {
		t.Errorf("body = %s, want an empty list", rec.Body)
	}
}

func TestWritesAreRejected(t *testing.T) {
	rec := get(t, newTestHandler(), http.MethodPost, "/api/v1/workloads")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST = %d, Allow %q; want 405 with Allow: GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestUnknownPathIsAJSON404(t *testing.T) {
	rec := get(t, newTestHandler(), http.MethodGet, "/api/v1/nope")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no such path: /api/v1/nope") {
		t.Errorf("unknown path = %d %s", rec.Code, rec.Body)
	}
}

func TestMetricsCountRequestsByRouteAndCode(t *testing.T) {
	h := newTestHandler()
	get(t, h, http.MethodGet, "/api/version")
	get(t, h, http.MethodGet, "/api/version")
	get(t, h, http.MethodPost, "/api/v1/workloads")
	get(t, h, http.MethodGet, "/api/v1/nope")
	rec := get(t, h, http.MethodGet, "/metrics")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{code="200",handler="/api/version",method="get"} 2`,
		`http_requests_total{code="405",handler="/api/v1/workloads",method="post"} 1`,
		`http_requests_total{code="404",handler="/",method="get"} 1`,
		`linkerd_controller_build_info{platform="linux/arm64",version="v2.3.4"} 1`,
		"linkerd_controller_workloads 2",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}
