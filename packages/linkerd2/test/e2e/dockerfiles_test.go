package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The images are written the way Linkerd writes its Dockerfiles: every
// stage but the last runs on the build machine (FROM --platform=$BUILDPLATFORM,
// or FROM such a stage), and the last stage is FROM scratch, copying only
// out of those stages and running nothing, so no target-arch code ever runs
// while an image is assembled.
var images = map[string]struct {
	copies     map[string]string // "<stage>:<path in the stage>" -> image path
	entrypoint string
}{
	"controller/Dockerfile": {map[string]string{"golang:/out/controller": "/controller"}, "/controller"},
	"web/Dockerfile":        {map[string]string{"golang:/out/web": "/web"}, "/web"},
	"debug/Dockerfile":      {map[string]string{"golang:/out/linkerd-debug": "/usr/local/bin/linkerd-debug"}, "/usr/local/bin/linkerd-debug"},
	"proxy/Dockerfile": {map[string]string{
		"fetch:/build/proxy/linkerd2-proxy":           "/usr/lib/linkerd/linkerd2-proxy",
		"fetch:/build/proxy/LICENSE":                  "/usr/lib/linkerd/LICENSE",
		"fetch:/build/proxy-init/linkerd2-proxy-init": "/usr/lib/linkerd/linkerd2-proxy-init",
	}, "/usr/lib/linkerd/linkerd2-proxy"},
}

type stage struct {
	from  []string // the FROM line's words after FROM
	name  string
	lines [][]string
}

// dockerfileStages splits a Dockerfile into its stages, with `\` continuations joined.
func dockerfileStages(data string) []stage {
	var stages []stage
	var logical []string
	pending := ""
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		logical = append(logical, pending+trimmed)
		pending = ""
	}
	for _, line := range logical {
		fields := strings.Fields(line)
		if strings.ToUpper(fields[0]) == "FROM" {
			s := stage{from: fields[1:]}
			if n := len(fields); n >= 4 && strings.ToUpper(fields[n-2]) == "AS" {
				s.name = fields[n-1]
				s.from = fields[1 : n-2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, fields)
		}
	}
	return stages
}

func TestImagesCompileOnTheBuildMachineAndAssembleFromScratch(t *testing.T) {
	root := moduleRoot(t)
	for path, want := range images {
		data, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		stages := dockerfileStages(string(data))
		if len(stages) < 2 {
			t.Errorf("%s: %d stages, want build stages and a runtime stage", path, len(stages))
			continue
		}
		buildStages := map[string]bool{}
		for _, s := range stages[:len(stages)-1] {
			onBuildMachine := len(s.from) == 2 && s.from[0] == "--platform=$BUILDPLATFORM"
			fromBuildStage := len(s.from) == 1 && buildStages[s.from[0]]
			if !onBuildMachine && !fromBuildStage {
				t.Errorf("%s: stage %q is FROM %q, want FROM --platform=$BUILDPLATFORM <image> or an earlier build stage", path, s.name, strings.Join(s.from, " "))
			}
			buildStages[s.name] = true
		}
		final := stages[len(stages)-1]
		if strings.Join(final.from, " ") != "scratch" {
			t.Errorf("%s: the runtime stage is FROM %q, want scratch", path, strings.Join(final.from, " "))
		}
		copies := map[string]string{}
		var entrypoint []string
		for _, fields := range final.lines {
			switch strings.ToUpper(fields[0]) {
			case "RUN":
				t.Errorf("%s: RUN in the runtime stage would execute target-arch code: %s", path, strings.Join(fields, " "))
			case "COPY", "ADD":
				from := strings.TrimPrefix(fields[1], "--from=")
				if len(fields) != 4 || from == fields[1] || !buildStages[from] {
					t.Errorf("%s: want COPY --from=<build stage> <path> <image path>, got %s", path, strings.Join(fields, " "))
					continue
				}
				copies[from+":"+fields[2]] = fields[3]
			case "ENTRYPOINT":
				raw := strings.Join(fields[1:], " ")
				if err := json.Unmarshal([]byte(raw), &entrypoint); err != nil {
					t.Errorf("%s: ENTRYPOINT must be exec form (a JSON array): %s", path, raw)
				}
			}
		}
		for src, dst := range want.copies {
			if copies[src] != dst {
				t.Errorf("%s: COPY --from=%s -> %q, want %s", path, src, copies[src], dst)
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
