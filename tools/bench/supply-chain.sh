#!/usr/bin/env bash
# What SBOM, provenance and signing cost, against the same run without them,
# in a fresh git clone of this checkout's HEAD (nothing here is touched), with
# Nx and the compiled plugin from this checkout's node_modules.
#
#   bash tools/bench/supply-chain.sh [--arches amd64,arm64,arm] [--runs 3]
#
# Builds (per arch):
#   cold         one `nx run-many -t docker-arch-build --arch=<arch>` with
#                everything empty (Nx cache, dist, cargo target, GOCACHE),
#                attestations on (the default): the whole cold matrix.
#   images       the 5 image tasks again, binaries cached (--skip-nx-cache
#                --excludeTaskDependencies), `--runs` times in turn with
#                attestations off, on (SPDX + provenance) and sbomFormat both
#                (SPDX + CycloneDX + provenance). The cross builds do not
#                change with attestations, so on - off is their whole cost in
#                the cold matrix. A cache hit restores them at no extra cost.
#   bytes        what sbom.spdx.json, sbom.cdx.json and provenance.intoto.json
#                add per image in dist/images.
# Build figures are wall and CPU seconds (user + system of the process tree,
# GNU time): on a loaded machine the wall time is mostly waiting for a core,
# and the CPU difference is the cost to trust.
# Pushes (every project with all the arches, to a fresh loopback
# docker-registry 2.8 per round): unsigned, then signed + attested with a
# cosign key made for the run; each followed by a re-push of the same images.
# Bytes sent are the push report's and the signing report's.
# Bounded: one clone in a temp folder, removed at the end; runs are counted
# (1 to 9); registries are stopped by pid. Needs tools/setup.sh's cosign.
set -euo pipefail
LOG_TAG=bench-supply-chain
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

arches=amd64
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    --runs) runs=${2:?--runs needs a value}; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/supply-chain.sh [--arches a,b,c] [--runs N]" ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9]$ ]] || die "--runs must be 1 to 9" "e.g. --runs 3"
cosign="$REPO_ROOT/.cache/go-tools/cosign"
[ -x "$cosign" ] || die "$cosign is missing" "run bash tools/setup.sh (it builds cosign)"
command -v docker-registry >/dev/null || die "docker-registry not found" "run bash tools/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-supply-chain.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_state_registries
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
clone="$work/workspace"

build_plugin_and_clone_head "$clone"

# Only these NX_* settings: a developer's daemon, cache folder or remote cache must not leak in.
nx_env=(env $(env | awk -F= '/^NX_/ && $1 != "NX_MULTIARCH_STATE_DIR" { print "-u " $1 }') -u SOURCE_DATE_EPOCH
  NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache" GOCACHE="$work/gocache"
  NX_MULTIARCH_REVISION="$(git -C "$clone" rev-parse HEAD)")
nx="$REPO_ROOT/node_modules/nx/dist/bin/nx.js"

# Wall seconds and CPU seconds (user + system of the whole process tree) of one
# command; its output goes to a log. CPU is the figure a loaded machine
# distorts least: wall time there is mostly waiting for a core.
timed() { # LOGFILE COMMAND
  /usr/bin/time -f '%e %U %S' -o "$1.time" bash -c "$2" >"$1" 2>&1 || { tail -n 30 "$1" >&2; die "failed: $2" "see the output above"; }
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$1.time"
}
median() { # COLUMN (1: wall, 2: CPU) of lines on stdin
  awk -v c="$1" '{ print $c }' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
attestation_bytes() { # ARCH FILE...
  local arch=$1 total=0 count=0 dir f
  shift
  for dir in "$clone"/dist/images/*/"$arch"; do
    count=$((count + 1))
    for f in "$@"; do [ -f "$dir/$f" ] && total=$((total + $(stat -c %s "$dir/$f"))); done
  done
  echo "$((total / (count > 0 ? count : 1))) $count"
}

builds="$work/builds.tsv"
: >"$builds"
IFS=, read -r -a arch_list <<<"$arches"
for arch in "${arch_list[@]}"; do
  run_many="cd '$clone' && ${nx_env[*]} node '$nx' run-many -t docker-arch-build --arch=$arch --outputStyle=static"
  log "$arch: cold (nothing cached, attestations on)"
  rm -rf "$work/nx-cache" "$work/gocache" "$clone/dist" "$clone/packages/linkerd2-proxy/target"
  read -r cold cold_cpu <<<"$(timed "$work/cold-$arch.log" "$run_many")"
  images_only="$run_many --skip-nx-cache --excludeTaskDependencies"
  : >"$work/off-$arch" && : >"$work/on-$arch" && : >"$work/both-$arch"
  for run in $(seq "$runs"); do
    log "$arch: images only, run $run of $runs (off, on, both)"
    timed "$work/off-$arch.log" "$images_only --attestations=false" >>"$work/off-$arch"
    [ ! -e "$(ls -d "$clone"/dist/images/*/"$arch" | head -1)/sbom.spdx.json" ] || die "--attestations=false still wrote an SBOM" "see $work/off-$arch.log"
    timed "$work/on-$arch.log" "$images_only" >>"$work/on-$arch"
    read -r spdx_prov images <<<"$(attestation_bytes "$arch" sbom.spdx.json provenance.intoto.json)"
    timed "$work/both-$arch.log" "$images_only --sbomFormat=both" >>"$work/both-$arch"
    read -r both_bytes _ <<<"$(attestation_bytes "$arch" sbom.spdx.json sbom.cdx.json provenance.intoto.json)"
  done
  for mode in off on both; do
    printf -v "$mode" '%s' "$(median 1 <"$work/$mode-$arch")"
    printf -v "${mode}_cpu" '%s' "$(median 2 <"$work/$mode-$arch")"
  done
  # shellcheck disable=SC2154 # off, on, both and their _cpu are set just above
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$arch" "$images" "$cold" "$cold_cpu" "$off" "$off_cpu" "$on" "$on_cpu" "$both" "$both_cpu" "$spdx_prov" "$both_bytes" >>"$builds"
done

log "pushes (unsigned, signed; each then re-pushed)"

COSIGN_PASSWORD=bench "$cosign" generate-key-pair --output-key-prefix "$work/cosign" >/dev/null
BENCH_REPO="$REPO_ROOT" BENCH_CLONE="$clone" BENCH_ARCHES="$arches" BENCH_KEY="$work/cosign.key" BENCH_PORT_BASE=$((20000 + RANDOM % 20000)) \
  COSIGN_PASSWORD=bench node -r "$REPO_ROOT/node_modules/@swc-node/register" "$REPO_ROOT/tools/bench/supply-chain-measure.ts" >"$work/push.tsv"

printf '\nBuilds (seconds, wall / CPU; images only: medians of %s runs)\n' "$runs"
printf '%-6s %6s %14s %14s %14s %14s %12s %12s\n' arch images cold 'images off' 'images on' 'images both' 'bytes/image' '(both)'
while IFS=$'\t' read -r arch images cold cold_cpu off off_cpu on on_cpu both both_cpu bytes both_bytes; do
  printf '%-6s %6s %14s %14s %14s %14s %12s %12s\n' "$arch" "$images" "$cold / $cold_cpu" "$off / $off_cpu" "$on / $on_cpu" "$both / $both_cpu" "$bytes" "$both_bytes"
  printf '       SBOM + provenance: %+.2f s wall, %+.2f s CPU on the cold matrix (CPU: %.1f%% of it, %.2f s per image); with CycloneDX too: %+.2f s wall, %+.2f s CPU\n' \
    "$(echo "$on - $off" | bc)" "$(echo "$on_cpu - $off_cpu" | bc)" "$(echo "100 * ($on_cpu - $off_cpu) / $cold_cpu" | bc -l)" \
    "$(echo "($on_cpu - $off_cpu) / $images" | bc -l)" "$(echo "$both - $off" | bc)" "$(echo "$both_cpu - $off_cpu" | bc)"
done <"$builds"
printf '\nPushes (%s images of %s projects, fresh docker-registry 2.8 each round; seconds, wall)\n' "$(awk -F'\t' '$1 == "images" { print $2 }' "$work/push.tsv")" "$(awk -F'\t' '$1 == "projects" { print $2 }' "$work/push.tsv")"
awk -F'\t' '$1 == "row" { printf "%-22s %8s s %12s bytes sent\n", $2, $3, $4 }' "$work/push.tsv"
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
