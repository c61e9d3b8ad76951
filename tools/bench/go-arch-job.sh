#!/usr/bin/env bash
# The Go builds of one CI job per arch (what the ci-workflow generator's
# per-arch jobs run), cold, the plugin of REF against this checkout's:
#
#   bash tools/bench/go-arch-job.sh [REF] [RUNS] [ARCH]     (defaults: HEAD~1, 2, arm64)
#
# `nx run-many -t go-cross--ARCH --skip-nx-cache` over the workspace (every Go
# main: proxy-init, and controller, web, debug and cli of one module), each
# run with an empty GOCACHE (the module cache is the machine's: no fetch is
# measured). Both sides are clones of this checkout's HEAD, so the workspace
# is the same; only the plugin differs (each installed from its `npm pack`,
# as users install it). Runs alternate between the sides; wall and CPU
# (user+sys of Nx and everything it ran) come from GNU time.
# Bounded: RUNS x 2 builds; two clones in a temp folder, removed at the end.
set -euo pipefail
LOG_TAG=bench-go-arch-job
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

ref=${1:-HEAD~1}
runs=${2:-2}
arch=${3:-arm64}
[[ "$runs" =~ ^[1-9]$ ]] || die "RUNS must be 1 to 9" "e.g. bash tools/bench/go-arch-job.sh HEAD~1 2"
[ -x /usr/bin/time ] || die "GNU time is not installed" "apt-get install time"
ref_commit=$(git -C "$REPO_ROOT" rev-parse --short "$ref") || die "no commit $ref" "name a commit of this repository"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-go-arch.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "building and packing the plugin of $ref ($ref_commit) and of this checkout"
ref_and_head_clones "$work" "$ref_commit"
# Only these NX_* settings: a developer's daemon, cache folder or remote cache must not leak in.
mapfile -t unset_nx < <(env | awk -F= '/^NX_/ { print "-u"; print $1 }')
nx="$REPO_ROOT/node_modules/nx/dist/bin/nx.js"
results="$work/results.tsv"
for run in $(seq "$runs"); do
  for side in ref head; do
    rm -rf "$work/gocache"
    /usr/bin/time -o "$work/time" -f '%e\t%U\t%S' \
      env "${unset_nx[@]}" NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache-$side" GOCACHE="$work/gocache" \
      bash -c "cd '$work/$side' && node '$nx' run-many -t go-cross--$arch --skip-nx-cache --outputStyle=static" >"$work/$side-$run.log" 2>&1 ||
      { tail -n 30 "$work/$side-$run.log" >&2; die "the $side run failed" "see the output above"; }
    waits=$(grep -c 'which builds this module' "$work/$side-$run.log" || true)
    printf '%s\t%s\t%s\n' "$side" "$(cat "$work/time")" "$waits" >>"$results"
    log "run $run, $side: $(cut -f1 "$work/time") s wall, $waits waits"
  done
done
echo "go-cross--$arch of every Go main, empty GOCACHE, $runs runs per side (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -F'\t' -v ref="$ref ($ref_commit)" '
  BEGIN { printf "%-22s %10s %14s %8s\n", "plugin", "wall s", "CPU user+sys", "waits" }
  { name = ($1 == "ref") ? ref : "this checkout"; printf "%-22s %10.1f %14.1f %8d\n", name, $2, $3 + $4, $5; wall[$1] += $2; cpu[$1] += $3 + $4 }
  END { if (wall["ref"] > 0) printf "this checkout / %s: wall %.2f, CPU %.2f\n", ref, wall["head"] / wall["ref"], cpu["head"] / cpu["ref"] }' "$results"
