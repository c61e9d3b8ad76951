#!/usr/bin/env bash
# Measures what the cross executors cost on top of the compilers they wrap.
#
#   bash tools/bench/cross.sh [ARCH] [RUNS]      (defaults: arm64 3)
#
# 1. cargo-cross on linkerd2-proxy, cold (target folder removed before every
#    run by hyperfine --prepare; the commands take turns, round by round): the raw `cargo build --target …` with the
#    same flags and environment the executor uses, against the executor
#    itself (preflight, cargo metadata, build, strip, ELF check, package), and
#    against the whole `npx nx run … --skip-nx-cache` for reference.
# 2. go-cross on linkerd2-controller, cold (an empty GOCACHE each run): the
#    raw `go build` against the executor, and `npx nx run` for reference.
# 3. A cache-hit run of every cross binary for ARCH:
#    `nx run-many -t cargo-cross,go-cross --arch=ARCH` with a warm cache.
#
# Prints mean wall times and the executor/raw ratios (goal: <= 1.10 cold).
# Nothing outside .nx-multiarch/, dist/cross/ and a temp folder is touched;
# the Nx cache used is a temp folder too.
set -euo pipefail
LOG_TAG=bench-cross
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
ARCH=${1:-arm64}
RUNS=${2:-3}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$RUNS'" "usage: bash tools/bench/cross.sh [ARCH] [RUNS]"
command -v hyperfine >/dev/null || die "hyperfine is not installed" "apt-get install hyperfine"
command -v jq >/dev/null || die "jq is not installed" "apt-get install jq"

# arch -> Rust triple, gcc prefix, Go env (DESIGN section 3; the plugin's table is the source of truth).
case "$ARCH" in
  amd64)   TRIPLE=x86_64-unknown-linux-gnu;     PREFIX=x86_64-linux-gnu;      GOENV="GOARCH=amd64" ;;
  arm64)   TRIPLE=aarch64-unknown-linux-gnu;    PREFIX=aarch64-linux-gnu;     GOENV="GOARCH=arm64" ;;
  arm)     TRIPLE=armv7-unknown-linux-gnueabihf; PREFIX=arm-linux-gnueabihf;  GOENV="GOARCH=arm GOARM=7" ;;
  ppc64le) TRIPLE=powerpc64le-unknown-linux-gnu; PREFIX=powerpc64le-linux-gnu; GOENV="GOARCH=ppc64le" ;;
  s390x)   TRIPLE=s390x-unknown-linux-gnu;      PREFIX=s390x-linux-gnu;       GOENV="GOARCH=s390x" ;;
  *) die "unsupported arch '$ARCH'" "use one of: amd64 arm64 arm ppc64le s390x" ;;
esac
TRIPLE_KEY=$(echo "$TRIPLE" | tr 'a-z-' 'A-Z_')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$WORK/nx-cache"
unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN

cd "$REPO_ROOT"
log "building the plugin (the executor runner below loads dist/)"
npm run --silent build:plugin

# Runs one executor as Nx would, minus Nx (tools/bench/run-executor.ts).
run_executor="node -r $REPO_ROOT/node_modules/@swc-node/register $REPO_ROOT/tools/bench/run-executor.ts"

# interleaved GROUP PREPARE NAME CMD [NAME CMD]...: RUNS rounds, each running
# every command once (hyperfine --runs 1, PREPARE before each), so a burst of
# other load on the machine hits the raw build and the executor alike instead
# of whichever hyperfine happened to be timing. One JSON file per round.
interleaved() {
  local group=$1 prepare=$2 round
  shift 2
  for round in $(seq 1 "$RUNS"); do
    hyperfine --style none --runs 1 --prepare "$prepare" --export-json "$WORK/$group-$round.json" "$@" >/dev/null
    log "  round $round/$RUNS done"
  done
}

# name <tab> mean wall <tab> min wall <tab> mean CPU (user+system) seconds, per command, over GROUP's rounds.
stats_of() {
  jq -rs '[.[].results[]] | group_by(.command)[]
    | [.[0].command, (map(.mean) | add / length), (map(.mean) | min), (map(.user + .system) | add / length)] | @tsv' \
    "$WORK/$1"-*.json
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# --------------------------------------------------------------- cargo-cross --
TARGET_DIR="$REPO_ROOT/.nx-multiarch/cargo-target/linkerd2-proxy/$ARCH"
MANIFEST="$REPO_ROOT/packages/linkerd2-proxy/Cargo.toml"
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
# The executor's flags (src/cross/cargo-plan.ts): crt-static, path remapping, 0x1f-separated.
# Its CC_<triple>/AR_<triple>/CFLAGS_<triple> reach cc-rs, which compiles ring's C and assembly.
RUSTFLAGS_ENCODED=$(printf '%s\x1f' -C target-feature=+crt-static \
  "--remap-path-prefix=$REPO_ROOT=/nx-workspace" "--remap-path-prefix=$CARGO_HOME_DIR=/cargo-home")
RUSTFLAGS_ENCODED=${RUSTFLAGS_ENCODED%$'\x1f'}
export BENCH_RUSTFLAGS="$RUSTFLAGS_ENCODED"
CC_KEY=${TRIPLE//-/_}
RAW_CARGO="cd packages/linkerd2-proxy && env -u RUSTFLAGS RUSTC=/usr/bin/rustc CARGO_TARGET_${TRIPLE_KEY}_LINKER=$PREFIX-gcc \
CC_$CC_KEY=$PREFIX-gcc AR_$CC_KEY=$PREFIX-ar \"CFLAGS_$CC_KEY=-ffile-prefix-map=$REPO_ROOT=/nx-workspace -ffile-prefix-map=$CARGO_HOME_DIR=/cargo-home\" \
CARGO_ENCODED_RUSTFLAGS=\"\$BENCH_RUSTFLAGS\" CARGO_INCREMENTAL=0 SOURCE_DATE_EPOCH=0 \
/usr/bin/cargo build --manifest-path $MANIFEST --target $TRIPLE --target-dir $TARGET_DIR --profile release --locked --bin linkerd2-proxy"
EXEC_CARGO="$run_executor $REPO_ROOT cargo-cross linkerd2-proxy packages/linkerd2-proxy cargo-cross $ARCH"
NX_CARGO="npx nx run linkerd2-proxy:cargo-cross --arch=$ARCH --skip-nx-cache"

log "cargo-cross, cold, $ARCH, $RUNS runs each"
interleaved cargo "rm -rf $TARGET_DIR" \
  -n raw-cargo-build "$RAW_CARGO" -n cargo-cross-executor "$EXEC_CARGO" -n nx-run-cargo-cross "$NX_CARGO"

# ------------------------------------------------------------------ go-cross --
GOCACHE_DIR="$WORK/gocache"
RAW_GO="cd packages/linkerd2 && env GOCACHE=$GOCACHE_DIR CGO_ENABLED=0 GOOS=linux $GOENV \
go build -trimpath -buildvcs=false -ldflags '-s -w -buildid= -X main.version=dev' -o $WORK/controller ./controller"
EXEC_GO="env GOCACHE=$GOCACHE_DIR $run_executor $REPO_ROOT go-cross linkerd2-controller packages/linkerd2/controller go-cross $ARCH"
NX_GO="env GOCACHE=$GOCACHE_DIR npx nx run linkerd2-controller:go-cross --arch=$ARCH --skip-nx-cache"

log "go-cross, cold (empty GOCACHE), $ARCH, $RUNS runs each"
interleaved go "rm -rf $GOCACHE_DIR" \
  -n raw-go-build "$RAW_GO" -n go-cross-executor "$EXEC_GO" -n nx-run-go-cross "$NX_GO"

# --------------------------------------------------------------- cache hits --
ALL="npx nx run-many -t cargo-cross,go-cross --arch=$ARCH"
log "cache-hit run of every cross binary for $ARCH"
$ALL >/dev/null  # fills the (temporary) cache
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/hit-1.json" -n nx-run-many-cache-hit "$ALL" >&2

# ------------------------------------------------------------------- report --
# Wall time is what the goal is about; on a busy machine it swings with other
# load, so the minimum and the CPU time (user+system, which load does not
# inflate) are shown as well.
declare -A MEAN MIN CPU
while IFS=$'\t' read -r name mean min cpu; do MEAN[$name]=$mean; MIN[$name]=$min; CPU[$name]=$cpu; done \
  < <(stats_of cargo; stats_of go; stats_of hit)
row() { # LABEL NAME [BASELINE]
  if [ $# -eq 3 ]; then
    printf '%-30s %8.2f %8.2f %8.2f   %6s %6s %6s\n' "$1" "${MEAN[$2]}" "${MIN[$2]}" "${CPU[$2]}" \
      "$(ratio "${MEAN[$2]}" "${MEAN[$3]}")" "$(ratio "${MIN[$2]}" "${MIN[$3]}")" "$(ratio "${CPU[$2]}" "${CPU[$3]}")"
  else
    printf '%-30s %8.2f %8.2f %8.2f\n' "$1" "${MEAN[$2]}" "${MIN[$2]}" "${CPU[$2]}"
  fi
}
printf '\n%-30s %8s %8s %8s   %6s %6s %6s\n' "$ARCH, $RUNS runs (seconds)" mean min cpu "r.mean" "r.min" "r.cpu"
row "raw cargo build --target" raw-cargo-build
row "cargo-cross executor" cargo-cross-executor raw-cargo-build
row "npx nx run (cargo-cross)" nx-run-cargo-cross raw-cargo-build
row "raw go build (controller)" raw-go-build
row "go-cross executor" go-cross-executor raw-go-build
row "npx nx run (go-cross)" nx-run-go-cross raw-go-build
row "all cross binaries, cache hit" nx-run-many-cache-hit
log "goal: executor/raw <= 1.10 on a cold build (ratios are against the raw build above them)"
