#!/usr/bin/env bash
# manifest-push as one process for many projects (Nx's batch mode, --batch:
# the executor's batchImplementation) against one process per project
# (--batch=false, the default), in one hyperfine run: a re-push of N images
# x 3 arches that the registry already holds (`nx run-many -t manifest-push
# --excludeTaskDependencies`), so each side is Nx's start-up, the push tasks
# and their processes.
#
#   bash tools/bench/batch.sh [N] [RUNS]        (defaults: 10 projects, 5 runs)
#
# The workspace is tools/bench/scale.sh's (half Go, half Rust), built once
# for the 3 arches; a loopback registry is started and stopped here. Uses
# this checkout's compiled plugin (npm run build:plugin). NX_DAEMON=false.
# Logs of the first push and of one batched re-push: tmp/batch/.
set -euo pipefail
LOG_TAG=bench-batch
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"
# shellcheck source=../lib/scale-workspace.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/scale-workspace.sh"

n=${1:-10}
runs=${2:-5}
logs="$REPO_ROOT/tmp/batch"
pushed_scale_workspace "$n" "$logs"
# The batch must really push: each project's push record (dist/push/<project>.json) is written
# again by the batched re-push, and says nothing was written to the registry.
rm -rf dist/push
$push --excludeTaskDependencies --batch >"$logs/batch.log" 2>&1 || { tail -30 "$logs/batch.log"; die "the batched re-push failed" "see the output above"; }
records=$(jq -s '[.[] | select(.manifestsPushed == 0 and .blobs.uploaded == 0)] | length' dist/push/*.json 2>/dev/null || echo 0)
[ "$records" = "$n" ] || die "the batched re-push left $records of $n push records saying nothing was written" "see $logs/batch.log"
# Each task's summary is printed under its own header, not lost in the batch.
printed=$(grep -c '^Pushed ' "$logs/batch.log" || true)
[ "$printed" = "$n" ] || die "the batched re-push printed $printed of $n push summaries" "see $logs/batch.log"
log "batched re-push: $n push records, each $(jq -s -r 'map(.requests) | unique | map(tostring) | join("/")' dist/push/*.json) request(s), nothing written; $printed summaries printed"
hyperfine --style basic --warmup 1 --runs "$runs" \
  -n "re-push of $n images, one process per project" "$push --excludeTaskDependencies --batch=false" \
  -n "re-push of $n images, --batch" "$push --excludeTaskDependencies --batch"
