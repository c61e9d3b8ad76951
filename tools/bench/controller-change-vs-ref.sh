#!/usr/bin/env bash
# A one-line controller change, built and pushed, with the plugin of REF
# against this checkout's, in one run: the scenario where a task's process
# start and the plugin's load are a large share of the time.
#
#   bash tools/bench/controller-change-vs-ref.sh [REF] [RUNS] [NX_ARGS...]   (defaults: HEAD~1, 4)
#
# Both sides are clones of this checkout's HEAD, so the workspace is the same;
# only the plugin differs (each installed from its `npm pack`, as users
# install it). Each side first builds and pushes the Go images (controller,
# web, debug, proxy-init; the Rust proxy is left out, which a controller
# change does not touch) for the 3 arches to its own loopback registry. Then,
# RUNS times, alternating sides: the controller's name constant changes
# (a new value each run), and `nx run-many -t manifest-push --projects=<those
# four>` runs with NX_ARGS (e.g. --batch). Wall and CPU (user+sys of Nx and
# everything it ran) from GNU time, and each run's critical path and
# recoverable time from Nx's own summary. NX_DAEMON=false and
# NX_ISOLATE_PLUGINS=false, as the generated CI runs Nx.
# CHANGE=label: instead of the controller's code, a LABEL line at the end of
# the four Dockerfiles changes, so the Go builds are cache hits and all 12
# images are built again around the same binaries (the layer cache's case).
# REF_PROJECTS=1: the ref side also takes the Go projects' own files
# (packages/linkerd2, packages/linkerd2-proxy-init: project.json files,
# Dockerfiles, sources) from REF, for a change that spans plugin and projects.
# Bounded: 2 cold Go builds and RUNS x 2 changes; temp folder removed at the end.
set -euo pipefail
LOG_TAG=bench-controller-change
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"

change=${CHANGE:-controller}
[[ "$change" =~ ^(controller|label)$ ]] || die "CHANGE must be controller or label" "e.g. CHANGE=label bash tools/bench/controller-change-vs-ref.sh HEAD~1 4 --batch"
ref=${1:-HEAD~1}
runs=${2:-4}
nx_args=("${@:3}")
[[ "$runs" =~ ^[1-9]$ ]] || die "RUNS must be 1 to 9" "e.g. bash tools/bench/controller-change-vs-ref.sh HEAD~1 4 --batch"
[ -x /usr/bin/time ] || die "GNU time is not installed" "apt-get install time"
ref_commit=$(git -C "$REPO_ROOT" rev-parse --short "$ref") || die "no commit $ref" "name a commit of this repository"

scratch_with_registry nxm-bench-controller
bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null

log "building and packing the plugin of $ref ($ref_commit) and of this checkout"
ref_and_head_clones "$work" "$ref_commit"
if [ "${REF_PROJECTS:-}" = 1 ]; then
  git -C "$work/ref" checkout -q "$ref_commit" -- packages/linkerd2 packages/linkerd2-proxy-init
  log "ref side: packages/linkerd2 and packages/linkerd2-proxy-init from $ref_commit"
fi
# Only these NX_* settings: a developer's daemon, cache folder or remote cache must not leak in.
mapfile -t unset_nx < <(env | awk -F= '/^NX_/ { print "-u"; print $1 }')
nx="$REPO_ROOT/node_modules/nx/dist/bin/nx.js"
projects=linkerd2-controller,linkerd2-web,linkerd2-debug,linkerd2-proxy-init
# push SIDE LOG: the images of the Go projects built as needed and pushed, timed into $work/time.
push() {
  /usr/bin/time -o "$work/time" -f '%e\t%U\t%S' \
    env "${unset_nx[@]}" NX_DAEMON=false NX_ISOLATE_PLUGINS=false NX_TUI=false NX_NO_CLOUD=true \
    NX_CACHE_DIRECTORY="$work/nx-cache-$1" GOCACHE="$work/gocache-$1" \
    bash -c "cd '$work/$1' && node '$nx' run-many -t manifest-push --projects=$projects --registry=127.0.0.1:$reg_port/$1 ${nx_args[*]} --outputStyle=static" >"$2" 2>&1 ||
    { tail -n 30 "$2" >&2; die "the $1 run failed" "see the output above"; }
}
for side in ref head; do
  log "$side: cold build and push of the Go images"
  push "$side" "$work/$side-cold.log"
done
results="$work/results.tsv"
for run in $(seq "$runs"); do
  for side in ref head; do
    if [ "$change" = label ]; then
      for dockerfile in linkerd2/controller linkerd2/web linkerd2/debug linkerd2-proxy-init; do
        dockerfile="$work/$side/packages/$dockerfile/Dockerfile"
        sed -i '/^LABEL org.example.bench=/d' "$dockerfile"
        echo "LABEL org.example.bench=run-$run" >>"$dockerfile"
      done
    else
      main="$work/$side/packages/linkerd2/controller/main.go"
      sed -i "s#^const name = \"linkerd2-controller.*\"\$#const name = \"linkerd2-controller-bench-$run\"#" "$main"
      grep -q "linkerd2-controller-bench-$run\"" "$main" || die "the controller edit did not apply" "update the sed in this script to a line of controller/main.go"
    fi
    push "$side" "$work/$side-$run.log"
    printf '%s\t%s\n' "$side" "$(cat "$work/time")" >>"$results"
    # Nx's own summary of the run: the critical path, and the time its tasks waited on Nx between them.
    log "run $run, $side: $(cut -f1 "$work/time") s wall; Nx: $(sed -n 's/^ *\(Critical path\|Recoverable time\): *//p' "$work/$side-$run.log" | paste -sd ';' -)"
  done
done
echo "$change change, build and push of 4 Go images x 3 arches, Nx args: ${nx_args[*]:-none}, $runs runs per side (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -F'\t' -v ref="$ref ($ref_commit)" '
  BEGIN { printf "%-22s %10s %14s\n", "plugin", "wall s", "CPU user+sys" }
  { name = ($1 == "ref") ? ref : "this checkout"; printf "%-22s %10.1f %14.1f\n", name, $2, $3 + $4; wall[$1] += $2; cpu[$1] += $3 + $4 }
  END { if (wall["ref"] > 0) printf "this checkout / %s: wall %.2f, CPU %.2f\n", ref, wall["head"] / wall["ref"], cpu["head"] / cpu["ref"] }' "$results"
