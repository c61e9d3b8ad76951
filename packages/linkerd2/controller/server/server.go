// Package server is the controller's HTTP API: readiness, version, the
// list of meshed workloads, and Prometheus metrics.
package server

import (
	"encoding/json"
	"net/http"

	"example.com/linkerd2/pkg/api"
)

// Config is what the controller serves.
type Config struct {
	Version   string
	Platform  string
	Workloads []api.Workload
}

// NewHandler routes the controller's API.
func NewHandler(cfg Config) http.Handler {
	workloads := cfg.Workloads
	if workloads == nil {
		workloads = []api.Workload{} // serve [] rather than null
	}
	m := newMetrics(cfg, len(workloads))
	mux := http.NewServeMux()
	route := func(path string, h http.HandlerFunc) { mux.Handle(path, m.instrument(path, h)) }
	route(api.ReadyPath, getOnly(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}))
	route(api.VersionPath, getOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.VersionInfo{Version: cfg.Version, Platform: cfg.Platform})
	}))
	route(api.WorkloadsPath, getOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.WorkloadList{Workloads: workloads})
	}))
	mux.Handle(MetricsPath, m.handler())
	// Unknown paths are counted under one label, so a scan cannot grow the series without bound.
	route("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, api.Error{Error: "no such path: " + r.URL.Path})
	})
	return mux
}

// getOnly answers 405 to anything but GET and HEAD: the API is read-only.
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, api.Error{Error: r.Method + " is not allowed; the API is read-only"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}
