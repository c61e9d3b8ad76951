#!/usr/bin/env bash
# What a task process pays to load each executor (after Nx's devkit), the
# plugin of REF against this checkout's, alternated, in one run:
#
#   bash tools/bench/executor-load.sh [REF] [RUNS]     (defaults: HEAD~1, 15)
#
# REF's plugin is compiled in a git clone of this repository in a temp folder;
# this checkout's with npm run build:plugin. Prints medians in ms.
set -euo pipefail
LOG_TAG=bench-executor-load
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

ref=${1:-HEAD~1}
runs=${2:-15}
ref_commit=$(git -C "$REPO_ROOT" rev-parse --short "$ref") || die "no commit $ref" "name a commit of this repository"
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-load.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "compiling the plugin of $ref ($ref_commit) and of this checkout"
build_plugin_at_ref "$work/ref" "$ref_commit"
(cd "$REPO_ROOT" && npm run --silent build:plugin)
node "$REPO_ROOT/tools/bench/executor-load.js" "$runs" "$ref_commit=$work/ref/packages/nx-multiarch" "this-checkout=$REPO_ROOT/packages/nx-multiarch"
