#!/usr/bin/env bash
# Cold and warm `nx run-many -t docker-arch-build --arch=<arch>` for each arch,
# in a fresh git clone of this checkout's HEAD (so nothing here is touched),
# with Nx and the compiled plugin from this checkout's node_modules.
#
#   bash tools/bench/images.sh [--arches amd64,arm64,arm] [--runs 5]
#
# Per arch:
#   cold         empty Nx cache, no dist/, no cargo target/ and an empty
#                GOCACHE: every binary and every image built from scratch
#                (one run: it is minutes, and a second would not be cold).
#   images only  binaries cached, the five image tasks run for real
#                (--skip-nx-cache --excludeTaskDependencies), hyperfine.
#   warm         everything cached, nothing runs, hyperfine.
# Bounded: one clone in a temp folder, removed at the end; runs are counted.
set -euo pipefail
LOG_TAG=bench-images
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

arches=amd64,arm64,arm
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    --runs) runs=${2:?--runs needs a value}; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/images.sh [--arches a,b,c] [--runs N]" ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "--runs must be 1 to 99" "e.g. --runs 5"
command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"
command -v jq >/dev/null || die "jq is not installed" "apt-get install jq"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
clone="$work/workspace"

build_plugin_and_clone_head "$clone"

# Only these NX_* settings: a developer's daemon, cache folder or remote cache must not leak in.
nx_env=(env $(env | awk -F= '/^NX_/ { print "-u " $1 }') -u SOURCE_DATE_EPOCH
  NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache" GOCACHE="$work/gocache")
nx="$REPO_ROOT/node_modules/nx/dist/bin/nx.js"

results="$work/results.tsv"
: >"$results"
IFS=, read -r -a arch_list <<<"$arches"
for arch in "${arch_list[@]}"; do
  run_many="cd '$clone' && ${nx_env[*]} node '$nx' run-many -t docker-arch-build --arch=$arch --outputStyle=static"

  log "$arch: cold (nothing cached)"
  rm -rf "$work/nx-cache" "$work/gocache" "$clone/dist" "$clone/packages/linkerd2-proxy/target"
  # GNU time: wall seconds, then user + system CPU seconds of the whole tree (a figure a busy machine distorts less).
  /usr/bin/time -f '%e %U %S' -o "$work/cold-$arch.time" bash -c "$run_many" >"$work/cold-$arch.log" 2>&1 ||
    { tail -n 30 "$work/cold-$arch.log" >&2; die "cold run-many for $arch failed" "see the output above"; }
  read -r cold cold_user cold_sys <"$work/cold-$arch.time"
  cold_cpu=$(echo "$cold_user + $cold_sys" | bc)
  built=$(grep -c '^> nx run .*:docker-arch-build' "$work/cold-$arch.log" || true)
  [ "$built" -ge 5 ] || die "cold run for $arch built $built images, expected 5" "see $work/cold-$arch.log"

  log "$arch: images only ($runs runs)"
  hyperfine --style basic --runs "$runs" --export-json "$work/images-$arch.json" \
    "$run_many --skip-nx-cache --excludeTaskDependencies" >&2
  log "$arch: warm ($runs runs)"
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/warm-$arch.json" "$run_many" >&2
  # The warm run must have done no work: every task from the cache.
  bash -c "$run_many" >"$work/warm-$arch.log" 2>&1
  grep -q 'Nx read the output from the cache instead of running the command for \([0-9]*\) out of \1 tasks' "$work/warm-$arch.log" ||
    die "the warm run for $arch ran tasks" "see $work/warm-$arch.log"

  images=$(jq '.results[0].mean' "$work/images-$arch.json")
  images_cpu=$(jq '.results[0].user + .results[0].system' "$work/images-$arch.json")
  warm=$(jq '.results[0].mean' "$work/warm-$arch.json")
  warm_cpu=$(jq '.results[0].user + .results[0].system' "$work/warm-$arch.json")
  printf '%s\t%.1f / %.1f\t%.2f / %.2f\t%.2f / %.2f\n' "$arch" "$cold" "$cold_cpu" "$images" "$images_cpu" "$warm" "$warm_cpu" >>"$results"
done

printf '\n%-8s %16s %18s %14s\n' arch 'cold' 'images only' 'warm'
while IFS=$'\t' read -r arch cold images warm; do
  printf '%-8s %16s %18s %14s\n' "$arch" "$cold" "$images" "$warm"
done <"$results"
echo "(seconds, wall / CPU user+system; cold: Nx cache, dist, cargo target and GOCACHE empty; images only: the 5 docker-arch-build tasks, binaries cached; warm: all cached; images only and warm: means of $runs runs; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
