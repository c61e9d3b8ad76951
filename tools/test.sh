#!/usr/bin/env bash
# Runs every project's tests with the services they need:
#   - a private dockerd                   -> DOCKER_HOST=unix://…/docker.sock
#   - qemu-user binfmt registrations (machine-wide, left in place)
# then `nx run-many -t test e2e arch-integration--<arch>`, and ends with the
# totals over all runners (tools/lib/test-summary.sh): tests that ran apart
# from tests Nx replayed from its cache, every go test skip with its reason,
# and a closing line "N passed, N failed[, N skipped]" alone on the last line.
# Services it started are stopped on exit, also on failure or Ctrl-C; a
# dockerd that was already running is reused and left.
# (The tests start their own registries, each on a free loopback port: none is
# shared between test files, so a test cannot see another one's pushes.)
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

stop_dockerd=false
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if $stop_dockerd; then bash "$SERVICES" stop dockerd || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$REPO_ROOT"
[ -d node_modules ] || die "node_modules is missing" "run bash tools/setup.sh first"

if bash "$SERVICES" status dockerd >/dev/null 2>&1; then
  log "reusing the dockerd that is already running (left running afterwards)"
else
  stop_dockerd=true
fi
DOCKER_HOST=$(bash "$SERVICES" start dockerd)
export DOCKER_HOST

bash "$SERVICES" start binfmt

log "DOCKER_HOST=$DOCKER_HOST"
mkdir -p "$LOG_DIR"
started=$(date +%s)
started_ms=$(date +%s%3N)
status=0
run_tests 2>&1 | tee "$RUN_LOG" || status=${PIPESTATUS[0]}
log "nx run-many -t test exited $status after $(seconds_since "$started")s (full output: ${RUN_LOG#"$REPO_ROOT"/})"

# The totals over every runner, for people; the last line for CI.
bash "$REPO_ROOT/tools/lib/test-summary.sh" "$started_ms" "$RUN_LOG" || log "no Jest, cargo test, go test -v or node:test totals found to add up"
exit "$status"
