#!/usr/bin/env bash
# Nx-native figures of the plugin (issue 7), with hyperfine:
#   1. project-graph computation for this workspace, cold: no daemon, the
#      workspace-data folder (Nx's graph cache) removed before every run;
#   2. a warm, all-cached run-many of every docker-arch-build for amd64, arm64
#      and arm (the per-arch targets, 15 images and their 18 binaries).
#
#   bash tools/bench/graph.sh [RUNS] [--graph-only]      (default 5 runs)
#
# The graph is timed twice: cold (the workspace-data folder, which holds Nx's
# caches and the plugin's per-project createNodes memo, removed before every
# run) and warm (kept). --graph-only skips the build and the run-many figure.
# BENCH_REF=<commit> measures that commit of this repository instead of HEAD.
#
# Runs in a git clone of this checkout in a temp folder, with its own Nx cache
# folder; the checkout itself is not touched. Run bash tools/setup.sh once before.
set -euo pipefail
LOG_TAG=bench-graph
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

runs=5
graph_only=false
for arg in "$@"; do
  case "$arg" in
    --graph-only) graph_only=true ;;
    ''|*[!0-9]*) die "unknown argument '$arg'" "usage: bash tools/bench/graph.sh [RUNS] [--graph-only]" ;;
    *) runs=$arg ;;
  esac
done
command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-graph-XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet "$REPO_ROOT" "$work/ws"
[ -n "${BENCH_REF:-}" ] && git -C "$work/ws" checkout --quiet "$BENCH_REF"
mkdir "$work/ws/node_modules"
# The clone's own plugin, every other package from this checkout (no network).
for entry in "$REPO_ROOT"/node_modules/* "$REPO_ROOT"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = nx-multiarch ] && continue
  ln -s "$entry" "$work/ws/node_modules/$name"
done
ln -s ../packages/nx-multiarch "$work/ws/node_modules/nx-multiarch"
link_package_modules "$work/ws"

# The plugin entry Nx loads for the graph is the compiled one, as `npm ci` (prepare) leaves it.
node "$REPO_ROOT/node_modules/typescript/bin/tsc" -b "$work/ws/packages/nx-multiarch/tsconfig.lib.json"

export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache"
unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
cd "$work/ws"
nx="node $REPO_ROOT/node_modules/nx/dist/bin/nx.js"
targets="docker-arch-build--amd64 docker-arch-build--arm64 docker-arch-build--arm"

hyperfine --style basic --runs "$runs" --export-json "$work/graph.json" \
  --prepare 'rm -rf .nx/workspace-data' \
  -n 'project graph, cold, no daemon' "$nx show projects"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/graph-warm.json" \
  -n 'project graph, warm workspace data, no daemon' "$nx show projects"
results=("$work/graph.json" "$work/graph-warm.json")

if [ "$graph_only" = false ]; then
  log "warming the cache: every image for every arch (one cold build)"
  $nx run-many -t $targets --outputStyle=static > "$work/warm.log" 2>&1 || { tail -40 "$work/warm.log"; die "the warm-up build failed" "see the output above"; }
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/warm.json" \
    -n 'run-many docker-arch-build, 3 arches, all cached' "$nx run-many -t $targets --outputStyle=static"
  results+=("$work/warm.json")
fi

node -r "$REPO_ROOT/node_modules/@swc-node/register" "$REPO_ROOT/tools/bench/hyperfine-table.ts" "${results[@]}"
