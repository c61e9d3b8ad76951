#!/usr/bin/env bash
# Re-push of unchanged images, the plugin of REF against this checkout's, in
# one hyperfine run: five synthetic images x 3 arches (1 MiB layer each), one
# index tag, already in a loopback registry (a first push by this checkout put
# them there). Each side is one `node` process running publishProject for the
# five images (what manifest-push runs, without Nx's start-up around it);
# the registry requests of one re-push are counted by the client.
#
#   bash tools/bench/repush.sh [REF] [RUNS]          (defaults: main, 10)
#
# REF's plugin is built from a git clone of this repository in a temp folder.
set -euo pipefail
LOG_TAG=bench-repush
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

ref=${1:-main}
runs=${2:-10}
command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"
scratch_with_registry nxm-repush

log "building the plugin of $ref and of this checkout"
build_plugin_at_ref "$work/ref" "$ref"
(cd "$REPO_ROOT" && npm run --silent build:plugin)

bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null
run="node -r $REPO_ROOT/node_modules/@swc-node/register $REPO_ROOT/tools/bench/repush-run.ts"
$run write "$work/layouts"
$run push "$REPO_ROOT" "$work/layouts" "127.0.0.1:$reg_port" >/dev/null
log "requests of one re-push of the 5 images: $ref $($run push "$work/ref" "$work/layouts" "127.0.0.1:$reg_port"), this checkout $($run push "$REPO_ROOT" "$work/layouts" "127.0.0.1:$reg_port")"
hyperfine --style basic --warmup 1 --runs "$runs" \
  -n "re-push, $ref" "nice -n 10 $run push $work/ref $work/layouts 127.0.0.1:$reg_port" \
  -n "re-push, this checkout" "nice -n 10 $run push $REPO_ROOT $work/layouts 127.0.0.1:$reg_port"
