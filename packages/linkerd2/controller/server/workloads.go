package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"example.com/linkerd2/pkg/api"
)

// SampleWorkloads is what the controller serves when no --workloads-file is
// given: the demo application Linkerd's docs mesh, plus the control plane.
func SampleWorkloads() []api.Workload {
	return []api.Workload{
		{Namespace: "emojivoto", Kind: "deployment", Name: "emoji", MeshedPods: 1, TotalPods: 1},
		{Namespace: "emojivoto", Kind: "deployment", Name: "vote-bot", MeshedPods: 1, TotalPods: 1},
		{Namespace: "emojivoto", Kind: "deployment", Name: "voting", MeshedPods: 1, TotalPods: 1},
		{Namespace: "emojivoto", Kind: "deployment", Name: "web", MeshedPods: 2, TotalPods: 2},
		{Namespace: "linkerd", Kind: "deployment", Name: "linkerd-controller", MeshedPods: 1, TotalPods: 1},
		{Namespace: "linkerd", Kind: "deployment", Name: "linkerd-web", MeshedPods: 1, TotalPods: 1},
	}
}

// LoadWorkloads reads a JSON file shaped like the API's answer:
// {"workloads": [{"namespace": ..., "kind": ..., "name": ..., "meshedPods": 1, "totalPods": 1}]}.
func LoadWorkloads(path string) ([]api.Workload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--workloads-file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field would otherwise read as zero
	var list api.WorkloadList
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("--workloads-file %s: not a workload list (want {\"workloads\": [...]}): %v", path, err)
	}
	for i, w := range list.Workloads {
		if err := validate(w); err != nil {
			return nil, fmt.Errorf("--workloads-file %s: workload %d: %v", path, i, err)
		}
	}
	if list.Workloads == nil {
		list.Workloads = []api.Workload{}
	}
	return list.Workloads, nil
}

func validate(w api.Workload) error {
	switch {
	case w.Namespace == "" || w.Kind == "" || w.Name == "":
		return fmt.Errorf("namespace, kind and name are all required (got %q, %q, %q)", w.Namespace, w.Kind, w.Name)
	case w.MeshedPods < 0 || w.TotalPods < 0:
		return fmt.Errorf("%s/%s: pod counts cannot be negative", w.Namespace, w.Name)
	case w.MeshedPods > w.TotalPods:
		return fmt.Errorf("%s/%s: meshedPods (%d) exceeds totalPods (%d)", w.Namespace, w.Name, w.MeshedPods, w.TotalPods)
	}
	return nil
}
