// Package srv is the dashboard: one HTML page built from the controller's API
// at request time, so it always shows the controller's current state.
package srv

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"time"

	"example.com/linkerd2/pkg/api"
)

//go:embed dashboard.html.tmpl
var dashboardSource string

// html/template escapes every value, so workload names from the controller
// cannot inject markup into the page.
var dashboard = template.Must(template.New("dashboard").Parse(dashboardSource))

// Config is what the dashboard needs.
type Config struct {
	Version       string
	ControllerURL string
	// Timeout bounds each request to the controller, so a hung controller
	// gives a 502 page instead of a hung browser tab.
	Timeout time.Duration
}

// page is the data the template renders.
type page struct {
	WebVersion    string
	ControllerURL string
	Controller    api.VersionInfo
	Workloads     []api.Workload
	Error         string
}

// NewHandler builds the dashboard's routes; it fails on a bad controller URL.
func NewHandler(cfg Config) (http.Handler, error) {
	client, err := api.NewClient(cfg.ControllerURL, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		data, status := load(r.Context(), client, cfg.Version)
		render(w, status, data)
	})
	return mux, nil
}

// load fetches what the page shows. A controller that cannot answer makes the
// dashboard a bad gateway: 502 with the reason on the page.
func load(ctx context.Context, client *api.Client, webVersion string) (page, int) {
	p := page{WebVersion: webVersion, ControllerURL: client.URL()}
	info, err := client.Version(ctx)
	if err != nil {
		p.Error = err.Error()
		return p, http.StatusBadGateway
	}
	workloads, err := client.Workloads(ctx)
	if err != nil {
		p.Error = err.Error()
		return p, http.StatusBadGateway
	}
	p.Controller, p.Workloads = info, workloads
	return p, http.StatusOK
}

// render executes the template into a buffer first, so a template error
// becomes a clean 500 rather than half a page after a 200.
func render(w http.ResponseWriter, status int, data page) {
	var buf bytes.Buffer
	if err := dashboard.Execute(&buf, data); err != nil {
		http.Error(w, "rendering the dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
