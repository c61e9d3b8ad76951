#!/usr/bin/env bash
# Integration test time per arch, and the emulation slowdown against amd64 as
# a ratio, measured in the same run.
#
#   bash tools/bench/integration.sh [--arches amd64,arm64,arm] [--runs 3] [--runner qemu|docker]
#
# Runs in a fresh git clone of this checkout's HEAD (nothing here is touched),
# with Nx from this checkout's node_modules and this checkout's Nx cache, so
# images and binaries already built are restored rather than rebuilt. Then,
# for each round and each arch in turn (interleaved, so a slow moment of the
# machine hits every arch alike):
#   nx run-many -t arch-integration --arch=<arch> --skip-nx-cache --excludeTaskDependencies --parallel=1
# which runs every image project's arch tests for real and nothing else.
# "amd64 (emulated)" is amd64 run through qemu-x86_64-static as well
# (NX_MULTIARCH_EMULATE_HOST=1): qemu's cost on the same instruction set.
#
# Figures per arch (median of the rounds): wall seconds of the run-many, and
# test seconds (the sum of Jest's per-file durations in the summary.json files
# the executor writes). The tests are dominated by process start-up and
# loopback I/O, so two direct measures of emulation cost come with them, run
# through the plugin's test API: the controller image's start-to-ready time
# (median of 5 starts, after one warm-up) and the proxy image's throughput
# (32 MiB sent through it and echoed back by an upstream on this machine,
# median of 5 after one warm-up; the Node client and upstream share the
# machine's CPUs with the proxy, so on a small machine this figure is noisy).
# Ratios divide by amd64's. Output: a markdown table and JSON on stdout, also
# written to tmp/bench/integration.{md,json}.
# --runner docker needs DOCKER_HOST (bash tools/services.sh start dockerd) and
# binfmt (bash tools/services.sh start binfmt).
set -euo pipefail
LOG_TAG=bench-integration
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

arches=amd64,arm64,arm
runs=3
runner=qemu
while [ $# -gt 0 ]; do
  case "$1" in
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    --runs) runs=${2:?--runs needs a value}; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    --runner) runner=${2:?--runner needs a value}; shift ;;
    --runner=*) runner=${1#--runner=} ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/integration.sh [--arches a,b,c] [--runs N] [--runner qemu|docker]" ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9]$ ]] || die "--runs must be 1 to 9" "e.g. --runs 3"
case "$runner" in qemu | docker) ;; *) die "--runner must be qemu or docker, not $runner" "remote needs a native machine per arch" ;; esac
IFS=, read -r -a arch_list <<<"$arches"
[[ " ${arch_list[*]} " == *" amd64 "* ]] || die "--arches must include amd64" "the ratios are against amd64"
if [ "$runner" = docker ] && [ -z "${DOCKER_HOST:-}" ]; then
  die "--runner docker needs a docker engine" "export DOCKER_HOST=\$(bash tools/services.sh start dockerd)"
fi
command -v jq >/dev/null || die "jq is not installed" "apt-get install jq"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-integration.XXXXXX")
trap 'rm -rf "$work"' EXIT
clone="$work/workspace"
log "cloning HEAD ($(git -C "$REPO_ROOT" rev-parse --short HEAD)) into a temp folder"
clone_workspace "$clone"

# Only these NX_* settings: a developer's daemon or remote cache must not leak in.
mapfile -t unset_nx < <(env | awk -F= '/^NX_/ { print "-u"; print $1 }')
nx_env=(env "${unset_nx[@]}"
  NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$REPO_ROOT/.nx/cache" NX_MULTIARCH_RUNNER="$runner")
nx() { (cd "$clone" && "${nx_env[@]}" node "$REPO_ROOT/node_modules/nx/dist/bin/nx.js" "$@"); }

for arch in "${arch_list[@]}"; do
  log "images and binaries for $arch (restored from the cache where they exist)"
  nx run-many -t docker-arch-build go-cross cargo-cross --arch="$arch" --outputStyle=static >"$work/build-$arch.log" 2>&1 ||
    { tail -30 "$work/build-$arch.log" >&2; die "building the $arch images failed" "see the output above"; }
done
projects=$(nx show projects --with-target arch-integration 2>/dev/null | sort | tr '\n' ' ')
[ -n "$projects" ] || die "no project has an arch-integration target" "add integration/*.arch.test.ts to an image project"
log "projects with arch tests: $projects"

# Rows: amd64, amd64 (emulated), then the other arches.
rows=(amd64 amd64-emulated)
for arch in "${arch_list[@]}"; do [ "$arch" = amd64 ] || rows+=("$arch"); done
[ "$runner" = qemu ] || rows=("${rows[@]/amd64-emulated/}")

log "building the plugin (the start-up and throughput measures use its compiled test API)"
(cd "$REPO_ROOT" && npm run --silent build:plugin >&2)

log "warm-up: one amd64 run, not counted (Jest's transform cache, the page cache)"
nx run-many -t arch-integration --arch=amd64 --skip-nx-cache --excludeTaskDependencies --parallel=1 --outputStyle=static >"$work/warmup.log" 2>&1 ||
  { tail -40 "$work/warmup.log" >&2; die "the amd64 arch tests failed" "nx run-many -t arch-integration --arch=amd64 reproduces it"; }

# measure_processes ROW ARCH EMULATE: prints one JSON line with the start-to-ready and throughput medians.
measure_processes() {
  # tools/bench/integration-measure.ts: this checkout's compiled plugin, the clone's images.
  (cd "$REPO_ROOT" && node -r "$REPO_ROOT/node_modules/@swc-node/register" tools/bench/integration-measure.ts "$clone" "$1" "$2" "$3" "$runner" "$work/api-$1")
}

processes="$work/processes.jsonl"
: >"$processes"
results="$work/results.tsv"
: >"$results"
for round in $(seq 1 "$runs"); do
  for row in "${rows[@]}"; do
    [ -n "$row" ] || continue
    arch=${row%-emulated}
    emulate=0
    [ "$row" = "$arch" ] || emulate=1
    rm -rf "$clone/dist/test-results"
    start=$(date +%s.%N)
    if ! NX_MULTIARCH_EMULATE_HOST=$emulate nx run-many -t arch-integration --arch="$arch" --skip-nx-cache --excludeTaskDependencies --parallel=1 \
      --outputStyle=static >"$work/run-$row-$round.log" 2>&1; then
      tail -40 "$work/run-$row-$round.log" >&2
      die "arch tests failed for $row (round $round)" "see the output above; nx run <project>:arch-integration --arch=$arch reproduces it"
    fi
    end=$(date +%s.%N)
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    tests=$(cat "$clone"/dist/test-results/*/"$arch"/summary.json | jq -s '[.[].tests] | add')
    test_seconds=$(cat "$clone"/dist/test-results/*/"$arch"/summary.json | jq -s '[.[].seconds] | add')
    printf '%s\t%s\t%s\t%s\t%s\n' "$row" "$round" "$wall" "$test_seconds" "$tests" >>"$results"
    log "round $round $row: ${wall}s wall, ${test_seconds}s in tests, $tests tests"
  done
done

for row in "${rows[@]}"; do
  [ -n "$row" ] || continue
  arch=${row%-emulated}
  emulate=0
  [ "$row" = "$arch" ] || emulate=1
  log "start-to-ready and proxy throughput: $row"
  measure_processes "$row" "$arch" "$emulate" >>"$processes" || die "measuring $row failed" "see the message above"
done

# Medians per row, ratios against amd64, as JSON; the table is made from it.
json=$(jq -R -s --arg runner "$runner" --argjson runs "$runs" --arg projects "$projects" --slurpfile processes "$processes" '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  ($processes | map({key: .row, value: .}) | from_entries) as $proc
  | [split("\n")[] | select(length > 0) | split("\t") | {row: .[0], wall: (.[2] | tonumber), test: (.[3] | tonumber), tests: (.[4] | tonumber)}]
  | group_by(.row) | map({row: .[0].row, tests: .[0].tests, wall: ([.[].wall] | median), test: ([.[].test] | median),
      startMs: $proc[.[0].row].startMs, proxyMiBps: $proc[.[0].row].proxyMiBps}) as $rows
  | ($rows[] | select(.row == "amd64")) as $base
  | {runner: $runner, runs: $runs, projects: ($projects | split(" ") | map(select(length > 0))),
     arches: [$rows[] | . + {wallRatio: (.wall / $base.wall), testRatio: (.test / $base.test),
       startRatio: (.startMs / $base.startMs), proxySlowdown: ($base.proxyMiBps / .proxyMiBps)}]
       | sort_by(if .row == "amd64" then 0 elif .row == "amd64-emulated" then 1 else 2 end)}' "$results")

table=$(jq -r '
  def r2: . * 100 | round / 100;
  "| arch | tests | wall s | test s | test / amd64 | controller start-to-ready ms | start / amd64 | proxy MiB/s | proxy slowdown |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  (.arches[] | "| \(if .row == "amd64-emulated" then "amd64 (qemu-x86_64)" else .row end) | \(.tests) | \(.wall | r2) | \(.test | r2) | \(.testRatio | r2) | \(.startMs | round) | \(.startRatio | r2) | \(.proxyMiBps | r2) | \(.proxySlowdown | r2) |")
' <<<"$json")

mkdir -p "$REPO_ROOT/tmp/bench"
printf '%s\n' "$json" >"$REPO_ROOT/tmp/bench/integration.json"
{
  echo "arch-integration, runner $runner, $runs rounds, projects: $projects"
  echo
  echo "$table"
} | tee "$REPO_ROOT/tmp/bench/integration.md"
echo
echo "$json"
