package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workloads.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadWorkloads(t *testing.T) {
	path := writeFile(t, `{"workloads":[{"namespace":"a","kind":"deployment","name":"b","meshedPods":1,"totalPods":2}]}`)
	ws, err := LoadWorkloads(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Name != "b" || ws[0].MeshedPods != 1 || ws[0].TotalPods != 2 {
		t.Errorf("loaded %+v", ws)
	}
}

func TestLoadWorkloadsRejectsBadFiles(t *testing.T) {
	cases := map[string]string{
		`[1,2]`: "not a workload list",
		`{"workloads":[{"namespace":"a","kind":"deployment","name":"b","meshed":1}]}`:           `unknown field "meshed"`,
		`{"workloads":[{"namespace":"a","kind":"","name":"b"}]}`:                                "workload 0: namespace, kind and name are all required",
		`{"workloads":[{"namespace":"a","kind":"k","name":"b","meshedPods":3,"totalPods":2}]}`:  "meshedPods (3) exceeds totalPods (2)",
		`{"workloads":[{"namespace":"a","kind":"k","name":"b","meshedPods":-1,"totalPods":2}]}`: "pod counts cannot be negative",
	}
	for content, want := range cases {
		_, err := LoadWorkloads(writeFile(t, content))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--workloads-file") {
			t.Errorf("%s: error = %v, want it to name the flag and contain %q", content, err, want)
		}
	}
	if _, err := LoadWorkloads(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestSampleWorkloadsAreValid(t *testing.T) {
	for _, w := range SampleWorkloads() {
		if err := validate(w); err != nil {
			t.Errorf("sample workload %+v: %v", w, err)
		}
	}
}
