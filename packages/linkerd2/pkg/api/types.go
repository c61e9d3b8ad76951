// Package api holds the controller's HTTP API: the paths, the JSON documents
// and a client. The controller serves it; the CLI and the dashboard read it.
package api

// Paths served by the controller.
const (
	ReadyPath     = "/ready"
	VersionPath   = "/api/version"
	WorkloadsPath = "/api/v1/workloads"
)

// VersionInfo is the body of GET /api/version.
type VersionInfo struct {
	Version  string `json:"version"`
	Platform string `json:"platform"`
}

// Workload is one meshed workload: a Kubernetes object whose pods run the proxy.
type Workload struct {
	Namespace  string `json:"namespace"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	MeshedPods int    `json:"meshedPods"`
	TotalPods  int    `json:"totalPods"`
}

// WorkloadList is the body of GET /api/v1/workloads.
type WorkloadList struct {
	Workloads []Workload `json:"workloads"`
}

// Error is the body of every non-2xx JSON answer.
type Error struct {
	Error string `json:"error"`
}
