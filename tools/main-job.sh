#!/usr/bin/env bash
# The main job: builds the plugin, starts a loopback registry, then runs the
# workspace's main job against it (see run_main_job below).
#
#   bash tools/main-job.sh                  leaves the registry running afterwards
#   bash tools/main-job.sh --stop-registry  stops the registry when the job ends
#
# The registry's port comes from NX_MULTIARCH_REGISTRY (a port, or
# 127.0.0.1:PORT / localhost:PORT), default 5000. Inside the job,
# NX_MULTIARCH_REGISTRY holds the registry's address (127.0.0.1:PORT).
# Run bash tools/setup.sh once before. Exits with the job's status.
set -euo pipefail
LOG_TAG=main-job
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# The main job itself, given the registry address as $1: every image of the
# workspace for every configured arch (cross-compiled binaries, daemonless
# image builds, each (project, arch) cached on its own), then each project's
# per-arch manifests and its multi-arch image index pushed to the registry.
# Nx's project-graph plugins load in Nx's own process rather than one worker
# process each, as the ci-workflow generator sets it (README, CI: "Plugins in
# Nx's own process"); NX_ISOLATE_PLUGINS=true in the caller's environment keeps
# Nx's workers.
run_main_job() {
  NX_DAEMON=false NX_ISOLATE_PLUGINS=${NX_ISOLATE_PLUGINS:-false} npx nx run-many -t manifest-push --registry="$1" --outputStyle=stream
}

SERVICES="$REPO_ROOT/tools/services.sh"

stop_registry=false
for arg in "$@"; do
  case "$arg" in
    --stop-registry) stop_registry=true ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" "usage: bash tools/main-job.sh [--stop-registry]" ;;
  esac
done

# The registry this job starts is always a loopback one; a remote registry
# would be given to the push target directly, not started here.
registry_setting=${NX_MULTIARCH_REGISTRY:-5000}
case "$registry_setting" in
  127.0.0.1:*|localhost:*) port=${registry_setting##*:} ;;
  *:*) die "NX_MULTIARCH_REGISTRY=$registry_setting is not a loopback address" \
         "this job starts a local registry: set NX_MULTIARCH_REGISTRY to a port or 127.0.0.1:PORT" ;;
  *) port=$registry_setting ;;
esac

cd "$REPO_ROOT"
[ -d node_modules ] || die "node_modules is missing" "run bash tools/setup.sh first"

log "building the plugin"
npm run --silent build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"

registry=$(bash "$SERVICES" start registry "$port")
export NX_MULTIARCH_REGISTRY="$registry"

finish() {
  local status=$?
  trap - EXIT
  if $stop_registry; then
    bash "$SERVICES" stop registry "$port" || true
  else
    log "the registry at $registry is left running; stop it with: bash tools/services.sh stop registry $port"
  fi
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
status=0
run_main_job "$registry" || status=$?
log "main job exited $status after $(seconds_since "$started")s"
exit "$status"
