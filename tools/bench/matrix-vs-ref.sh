#!/usr/bin/env bash
# The cold full matrix of this checkout against an earlier commit, in one run:
# each side is a fresh clone at its commit, set up with `npm ci`, that runs the
# main job (every image for every arch, built and pushed to its own loopback
# registry) with empty Nx, Go build and cargo target caches. The module and
# crate download caches are the machine's, so both sides compile and neither
# fetches much: the figure compares the pipelines, not the network.
#
#   bash tools/bench/matrix-vs-ref.sh [REF]      (default REF: 9e1929f, the std-only proving ground)
#
# Prints the wall and CPU seconds of each side and their ratio. The two sides
# run one after the other: read the ratio on a quiet machine.
set -euo pipefail
LOG_TAG=bench-matrix
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
REF=${1:-9e1929f}
git -C "$REPO_ROOT" rev-parse --verify -q "$REF^{commit}" >/dev/null || die "unknown commit '$REF'" "give a commit of this repository's history"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-bench-matrix.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# run_side NAME COMMIT: clone, npm ci, then the timed cold main job; prints "wall cpu".
run_side() {
  # This function runs in its own subshell; its cutime gathers the job's processes once they are reaped.
  local name=$1 commit=$2 dir="$WORK/$1" port me=$BASHPID
  git clone -q "$REPO_ROOT" "$dir"
  git -C "$dir" checkout -q "$commit"
  (cd "$dir" && npm ci --no-audit --no-fund >"$WORK/$name-npm.log" 2>&1) || die "npm ci failed in the $name clone" "see $WORK/$name-npm.log"
  port=$(free_port)
  local start end cpu_before cpu_after
  start=$(date +%s.%N)
  cpu_before=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
  (cd "$dir" && env GOCACHE="$WORK/$name-gocache" NX_DAEMON=false NX_MULTIARCH_REVISION=bench \
    NX_MULTIARCH_REGISTRY="127.0.0.1:$port" bash tools/main-job.sh --stop-registry >"$WORK/$name-job.log" 2>&1) ||
    { tail -n 30 "$WORK/$name-job.log" >&2; die "the $name main job failed" "see the output above"; }
  end=$(date +%s.%N)
  cpu_after=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
  awk -v a="$start" -v b="$end" -v c="$cpu_before" -v d="$cpu_after" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f %.1f\n", b - a, (d - c) / hz }'
}

head_commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD)
log "reference $REF: cold main job"
read -r ref_wall ref_cpu <<<"$(run_side ref "$REF")"
log "this checkout $head_commit: cold main job"
read -r head_wall head_cpu <<<"$(run_side head HEAD)"

printf '| side | commit | wall s | CPU s |\n| --- | --- | ---: | ---: |\n'
printf '| reference | %s | %s | %s |\n' "$REF" "$ref_wall" "$ref_cpu"
printf '| this checkout | %s | %s | %s |\n' "$head_commit" "$head_wall" "$head_cpu"
awk -v a="$head_wall" -v b="$ref_wall" -v c="$head_cpu" -v d="$ref_cpu" \
  'BEGIN { printf "ratio (this / reference): wall %.2f, CPU %.2f\n", a / b, c / d }'
