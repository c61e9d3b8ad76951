#!/usr/bin/env bash
# Nx's plugin isolation on and off, in one hyperfine run: Nx's default starts
# one worker process per project-graph plugin (nx-multiarch and Nx's own three:
# each starts Node and loads Nx); NX_ISOLATE_PLUGINS=false loads them in Nx's
# own process, as the ci-workflow generator's jobs and tools/main-job.sh run.
# Three commands, each both ways, over N images x 3 arches already built and
# pushed:
#   graph    nx show projects (the project graph, no cache on disk to reuse
#            without the daemon)
#   no-op    nx run-many -t manifest-push --batch (every build a cache hit,
#            the pushes find everything in the registry)
#   re-push  the same with --excludeTaskDependencies
# First it checks the project graph is the same both ways (nx graph --file).
#
#   bash tools/bench/plugin-isolation.sh [N] [RUNS]   (defaults: 10 projects, 10 runs)
#
# The workspace is tools/bench/scale.sh's; a loopback registry is started and
# stopped here. Uses this checkout's compiled plugin (npm run build:plugin).
# NX_DAEMON=false, as on CI. Logs: tmp/plugin-isolation/.
set -euo pipefail
LOG_TAG=bench-isolation
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"
# shellcheck source=../lib/scale-workspace.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/scale-workspace.sh"

n=${1:-10}
runs=${2:-10}
logs="$REPO_ROOT/tmp/plugin-isolation"
pushed_scale_workspace "$n" "$logs"

for isolate in true false; do
  NX_ISOLATE_PLUGINS=$isolate $nx graph --file="$logs/graph-isolate-$isolate.json" >"$logs/graph-isolate-$isolate.log" 2>&1 ||
    die "nx graph failed with NX_ISOLATE_PLUGINS=$isolate" "see $logs/graph-isolate-$isolate.log"
done
cmp -s "$logs/graph-isolate-true.json" "$logs/graph-isolate-false.json" ||
  die "the project graph differs with plugins in Nx's process" "compare $logs/graph-isolate-true.json and $logs/graph-isolate-false.json"
log "the project graph is the same both ways ($(jq '.graph.nodes | length' "$logs/graph-isolate-true.json") projects)"

hyperfine --style basic --warmup 1 --runs "$runs" \
  -n "graph, plugin workers (Nx default)" "NX_ISOLATE_PLUGINS=true $nx show projects" \
  -n "graph, plugins in Nx's process" "NX_ISOLATE_PLUGINS=false $nx show projects" \
  -n "no-op, plugin workers (Nx default)" "NX_ISOLATE_PLUGINS=true $push --batch" \
  -n "no-op, plugins in Nx's process" "NX_ISOLATE_PLUGINS=false $push --batch" \
  -n "re-push, plugin workers (Nx default)" "NX_ISOLATE_PLUGINS=true $push --batch --excludeTaskDependencies" \
  -n "re-push, plugins in Nx's process" "NX_ISOLATE_PLUGINS=false $push --batch --excludeTaskDependencies"
