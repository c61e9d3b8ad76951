#!/usr/bin/env bash
# Nx-native figures of the plugin (issue 7), with hyperfine:
#   1. project-graph computation for this workspace, cold: no daemon, the
#      workspace-data folder (Nx's graph cache) removed before every run;
#   2. a warm, all-cached run-many of every docker-arch-build for amd64, arm64
#      and arm (the per-arch targets, 15 images and their 18 binaries).
#
#   bash tools/bench-graph.sh [RUNS]      (default 5)
#
# Runs in a git clone of this checkout in a temp folder, with its own Nx cache
# folder; the checkout itself is not touched. Run bash tools/setup.sh once before.
set -euo pipefail
LOG_TAG=bench-graph
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

runs=${1:-5}
case "$runs" in ''|*[!0-9]*) die "RUNS must be a whole number, not '$runs'" "usage: bash tools/bench-graph.sh [RUNS]" ;; esac
command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-graph-XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet "$REPO_ROOT" "$work/ws"
mkdir "$work/ws/node_modules"
# The clone's own plugin, every other package from this checkout (no network).
for entry in "$REPO_ROOT"/node_modules/* "$REPO_ROOT"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = nx-multiarch ] && continue
  ln -s "$entry" "$work/ws/node_modules/$name"
done
ln -s ../packages/nx-multiarch "$work/ws/node_modules/nx-multiarch"
[ -d "$REPO_ROOT/packages/nx-multiarch/node_modules" ] && ln -s "$REPO_ROOT/packages/nx-multiarch/node_modules" "$work/ws/packages/nx-multiarch/node_modules"

# The plugin entry Nx loads for the graph is the compiled one, as `npm ci` (prepare) leaves it.
node "$REPO_ROOT/node_modules/typescript/bin/tsc" -b "$work/ws/packages/nx-multiarch/tsconfig.lib.json"

export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache"
unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
cd "$work/ws"
nx="node $REPO_ROOT/node_modules/nx/dist/bin/nx.js"
targets="docker-arch-build--amd64 docker-arch-build--arm64 docker-arch-build--arm"

log "warming the cache: every image for every arch (one cold build)"
$nx run-many -t $targets --outputStyle=static > "$work/warm.log" 2>&1 || { tail -40 "$work/warm.log"; die "the warm-up build failed" "see the output above"; }

hyperfine --style basic --runs "$runs" --export-json "$work/graph.json" \
  --prepare 'rm -rf .nx/workspace-data' \
  -n 'project graph, cold, no daemon' "$nx show projects"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/warm.json" \
  -n 'run-many docker-arch-build, 3 arches, all cached' "$nx run-many -t $targets --outputStyle=static"

node -e '
const [graph, warm] = process.argv.slice(1).map((f) => require(f).results[0]);
const row = (r) => `| ${r.command} | ${r.mean.toFixed(2)} | ${r.min.toFixed(2)} | ${r.max.toFixed(2)} |`;
console.log("\n| measure (seconds) | mean | min | max |\n| --- | ---: | ---: | ---: |");
console.log(row(graph)); console.log(row(warm));
' "$work/graph.json" "$work/warm.json"
