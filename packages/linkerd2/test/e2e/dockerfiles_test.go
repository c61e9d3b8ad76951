package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The images are assembled without running anything for the target arch:
// each Dockerfile's only stage is FROM scratch and copies binaries that were
// cross-built and staged at bin/<name> in the build context.
var images = map[string]struct {
	copies     map[string]string // context path -> image path
	entrypoint string
}{
	"controller/Dockerfile": {map[string]string{"bin/controller": "/controller"}, "/controller"},
	"web/Dockerfile":        {map[string]string{"bin/web": "/web"}, "/web"},
	"debug/Dockerfile":      {map[string]string{"bin/linkerd-debug": "/usr/local/bin/linkerd-debug"}, "/usr/local/bin/linkerd-debug"},
	"proxy/Dockerfile": {map[string]string{
		"bin/linkerd2-proxy":      "/usr/lib/linkerd/linkerd2-proxy",
		"bin/LICENSE":             "/usr/lib/linkerd/LICENSE",
		"bin/linkerd2-proxy-init": "/usr/lib/linkerd/linkerd2-proxy-init",
	}, "/usr/lib/linkerd/linkerd2-proxy"},
}

func TestDockerfilesOnlyCopyCrossBuiltBinariesIntoScratch(t *testing.T) {
	root := moduleRoot(t)
	for path, want := range images {
		data, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		copies := map[string]string{}
		var froms []string
		var entrypoint []string
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			switch strings.ToUpper(fields[0]) {
			case "FROM":
				froms = append(froms, strings.Join(fields[1:], " "))
			case "RUN":
				t.Errorf("%s: RUN would execute target-arch code under emulation: %s", path, line)
			case "COPY", "ADD":
				if len(fields) != 3 || strings.HasPrefix(fields[1], "--") {
					t.Errorf("%s: want COPY <context path> <image path>, got %s", path, line)
					continue
				}
				copies[fields[1]] = fields[2]
			case "ENTRYPOINT":
				raw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
				if err := json.Unmarshal([]byte(raw), &entrypoint); err != nil {
					t.Errorf("%s: ENTRYPOINT must be exec form (a JSON array): %s", path, line)
				}
			}
		}
		if len(froms) != 1 || froms[0] != "scratch" {
			t.Errorf("%s: stages %q, want exactly one FROM scratch", path, froms)
		}
		for src, dst := range want.copies {
			if copies[src] != dst {
				t.Errorf("%s: COPY %s -> %q, want %s", path, src, copies[src], dst)
			}
		}
		if len(copies) != len(want.copies) {
			t.Errorf("%s: copies %v, want exactly %v", path, copies, want.copies)
		}
		if len(entrypoint) == 0 || entrypoint[0] != want.entrypoint {
			t.Errorf("%s: ENTRYPOINT %q, want %s", path, entrypoint, want.entrypoint)
		}
	}
}
