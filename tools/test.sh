#!/usr/bin/env bash
# Runs every project's tests with the services they need:
#   - a loopback registry on a free port  -> NX_MULTIARCH_TEST_REGISTRY=127.0.0.1:<port>
#   - a private dockerd                   -> DOCKER_HOST=unix://…/docker.sock
#   - qemu-user binfmt registrations (machine-wide, left in place)
# then `nx run-many -t test e2e arch-integration--<arch>`, and ends with one totals line over all runners
# ("tests: N passed, N failed"). Services it started are stopped on exit, also
# on failure or Ctrl-C; a dockerd that was already running is reused and left.
#
#   bash tools/test.sh            (run bash tools/setup.sh once before)
#
# Exits with the test run's status.
set -euo pipefail
LOG_TAG="test"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SERVICES="$REPO_ROOT/tools/services.sh"
LOG_DIR="$REPO_ROOT/tmp/test"
RUN_LOG="$LOG_DIR/nx-test.log"

# The test command: every project's unit and integration tests, the plugin's
# e2e (published to a loopback verdaccio, used in a fresh workspace), and the
# integration tests of every image on every arch (under qemu).
run_tests() {
  NX_DAEMON=false npx nx run-many -t test e2e arch-integration--amd64 arch-integration--arm64 arch-integration--arm --outputStyle=stream
}

registry_port=""
stop_dockerd=false
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$registry_port" ]; then bash "$SERVICES" stop registry "$registry_port" || true; fi
  if $stop_dockerd; then bash "$SERVICES" stop dockerd || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$REPO_ROOT"
[ -d node_modules ] || die "node_modules is missing" "run bash tools/setup.sh first"

# A free port can be taken between choosing and binding it; try a few.
for attempt in 1 2 3; do
  port=$(free_port)
  if address=$(bash "$SERVICES" start registry "$port"); then
    registry_port=$port
    break
  fi
  [ "$attempt" -lt 3 ] || die "could not start the test registry" "see the registry messages above"
done
export NX_MULTIARCH_TEST_REGISTRY="$address"

if bash "$SERVICES" status dockerd >/dev/null 2>&1; then
  log "reusing the dockerd that is already running (left running afterwards)"
else
  stop_dockerd=true
fi
DOCKER_HOST=$(bash "$SERVICES" start dockerd)
export DOCKER_HOST

bash "$SERVICES" start binfmt

log "NX_MULTIARCH_TEST_REGISTRY=$NX_MULTIARCH_TEST_REGISTRY DOCKER_HOST=$DOCKER_HOST"
mkdir -p "$LOG_DIR"
started=$(date +%s)
started_ms=$(date +%s%3N)
status=0
run_tests 2>&1 | tee "$RUN_LOG" || status=${PIPESTATUS[0]}
log "nx run-many -t test exited $status after $(seconds_since "$started")s (full output: ${RUN_LOG#"$REPO_ROOT"/})"

# One closing line over every runner, for people and for CI.
bash "$REPO_ROOT/tools/lib/test-summary.sh" "$started_ms" "$RUN_LOG" || log "no Jest, cargo test, go test -v or node:test totals found to add up"
exit "$status"
