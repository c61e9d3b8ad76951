#!/usr/bin/env bash
# An Nx run with the plugin as this repository runs it against the plugin as
# users install it:
#
#   source     the workspace's own package: Nx loads its TypeScript sources
#              through its transpiler (swc) in every Nx process;
#   installed  `npm pack` of the compiled package unpacked into node_modules
#              (tools/lib/workspace-clone.sh install_compiled_plugin): plain JS.
#
#   bash tools/bench/compiled-plugin.sh [--runs 5] [--rerun] [--nx "run-many -t go-cross --arch=amd64"]
#
# Each side is a fresh git clone of this checkout's HEAD with its own Nx cache:
# one run fills it (the Go build cache is shared, so the second side compiles
# little), a second must be all cache hits, then hyperfine times the run: the
# no-op (all cache hits: Nx loads no executor then, only the graph plugin), or
# with --rerun every task again (--skip-nx-cache; each task process loads its
# executor, from TypeScript on the source side), the tools' own caches warm.
# In a clone whose node_modules links this checkout's, Nx loads the graph
# plugin from this checkout's dist/ and the executors from its src/ (*.ts).
# Bounded: two clones in a temp folder, removed at the end; runs are counted.
set -euo pipefail
LOG_TAG=bench-compiled-plugin
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

runs=5
rerun=''
nx_args="run-many -t go-cross --arch=amd64"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?--runs needs a value}; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    --nx) nx_args=${2:?--nx needs the Nx arguments}; shift ;;
    --nx=*) nx_args=${1#--nx=} ;;
    --rerun) rerun=--skip-nx-cache ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/compiled-plugin.sh [--runs N] [--nx \"NX ARGS\"]" ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "--runs must be 1 to 99" "e.g. --runs 5"
command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-compiled.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "building and packing the plugin"
(cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
(cd "$REPO_ROOT/packages/nx-multiarch" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/nx-multiarch-*.tgz)
log "cloning HEAD ($(git -C "$REPO_ROOT" rev-parse --short HEAD)) twice"
clone_workspace "$work/source"
clone_with_compiled_plugin "$work/installed" "$tarball"

# Only these NX_* settings: a developer's daemon, cache folder or remote cache must not leak in.
mapfile -t unset_nx < <(env | awk -F= '/^NX_/ { print "-u"; print $1 }')
nx="$REPO_ROOT/node_modules/nx/dist/bin/nx.js"
command_for() { # SIDE [EXTRA_NX_ARGS]
  echo "cd '$work/$1' && env ${unset_nx[*]} NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY='$work/nx-cache-$1' GOCACHE='$work/gocache' node '$nx' $nx_args ${2:-} --outputStyle=static"
}

for side in source installed; do
  log "$side: filling its cache ($nx_args)"
  bash -c "$(command_for "$side")" >"$work/$side-fill.log" 2>&1 ||
    { tail -n 30 "$work/$side-fill.log" >&2; die "the $side run failed" "see the output above"; }
  bash -c "$(command_for "$side")" >"$work/$side-noop.log" 2>&1 || die "the $side no-op run failed" "see $work/$side-noop.log"
  grep -q 'Nx read the output from the cache instead of running the command for \([0-9]*\) out of \1 tasks' "$work/$side-noop.log" ||
    { tail -n 30 "$work/$side-noop.log" >&2; die "the $side no-op run ran tasks" "see the output above"; }
done
# The installed side must not have read a TypeScript file of the plugin: it has none but schema files.
[ -z "$(find "$work/installed/node_modules/nx-multiarch/" -name '*.ts' ! -name '*.d.ts' -print -quit)" ] ||
  die "the packed plugin holds TypeScript sources" "check \"files\" in packages/nx-multiarch/package.json"

what=${rerun:+every task re-run}
what=${what:-no-op}
log "$what, $runs runs each (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/noop.json" \
  -n source "$(command_for source "$rerun")" -n installed "$(command_for installed "$rerun")" >&2
jq -r '.results[] | "\(.command)\t\(.mean)\t\(.stddev)\t\(.user + .system)"' "$work/noop.json" |
  awk -F'\t' 'BEGIN { printf "%-10s %12s %10s %14s\n", "plugin", "mean s", "± s", "CPU user+sys" }
    { printf "%-10s %12.3f %10.3f %14.3f\n", $1, $2, $3, $4; mean[NR] = $2 }
    END { if (mean[2] > 0) printf "source / installed: %.2f\n", mean[1] / mean[2] }'
echo "(nx $nx_args $rerun: $what; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
