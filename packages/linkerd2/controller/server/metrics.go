package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath serves the controller's Prometheus metrics, as Linkerd's
// control-plane components do for the mesh's own Prometheus.
const MetricsPath = "/metrics"

// metrics is one handler's registry. Each handler has its own, not the
// global default one, so tests can build several handlers in one process.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
}

func newMetrics(cfg Config, workloads int) *metrics {
	registry := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "Requests answered by the controller API, by route, status code and method.",
	}, []string{"handler", "code", "method"})
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "linkerd_controller_build_info",
		Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "platform"})
	buildInfo.WithLabelValues(cfg.Version, cfg.Platform).Set(1)
	meshed := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "linkerd_controller_workloads",
		Help: "Meshed workloads the controller serves.",
	})
	meshed.Set(float64(workloads))
	registry.MustRegister(
		requests, buildInfo, meshed,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return &metrics{registry: registry, requests: requests}
}

// instrument counts the answers of one route under its path.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"handler": route}), h)
}

// handler serves the registry in Prometheus' text format. A collector that
// fails (the process collector reads /proc, which an emulator may not offer
// in full) must not hide the other metrics: serve what was gathered.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, ErrorHandling: promhttp.ContinueOnError})
}
