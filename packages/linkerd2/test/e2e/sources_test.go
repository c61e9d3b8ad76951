package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

var registerSources sync.Once

// registerSourcesWithTestCache opens every source file of the module. These
// tests build the binaries in child processes, which Go's test cache cannot
// see: without this, `go test ./...` would replay a cached pass after a
// change to the controller. Files the test process opens are part of the
// cache key, so any change to them reruns the tests. It must run inside a
// test: the testing package starts logging opened files only in m.Run.
func registerSourcesWithTestCache() {
	root, err := findModuleRoot()
	if err != nil {
		return // the tests themselves report a missing module
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".mod", ".sum", ".tmpl":
		default:
			if d.Name() != "Dockerfile" {
				return nil
			}
		}
		if f, err := os.Open(path); err == nil {
			f.Close()
		}
		return nil
	})
}

func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
