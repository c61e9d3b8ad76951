#!/usr/bin/env bash
# Cross compiles of the real-dependency linkerd2-proxy (tokio, hyper, rustls
# with ring's C and assembly), per arch: the cargo-cross executor against the
# raw `cargo build --target` with the same flags and environment, in the same
# run, cold and warm; and the time spent fetching the crates.
#
#   bash tools/bench/cross-deps.sh [ARCH...]     (default: amd64 arm64 arm)
#
# 1. fetch: `cargo fetch --locked` into an EMPTY temporary CARGO_HOME (what a
#    fresh machine or CI runner pays once per workspace, for every arch).
# 2. per arch, cold (empty target folder): raw cargo, then the executor. Both
#    use that CARGO_HOME and build --locked --offline, so neither downloads.
# 3. per arch, warm (target folder kept, nothing changed): raw cargo (a
#    no-op build), then the executor (fetch check, no-op build, strip, ELF
#    check, package).
# Prints a table and writes it to tmp/bench/cross-deps.md. The commands take
# turns per arch, so a burst of load on this shared machine hits both sides.
set -euo pipefail
LOG_TAG=cross-deps
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
ARCHES=("$@")
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(amd64 arm64 arm)

# arch -> Rust triple and gcc prefix (DESIGN section 3; the plugin's table is the source of truth).
row_of() {
  case "$1" in
    amd64)   echo "x86_64-unknown-linux-gnu x86_64-linux-gnu" ;;
    arm64)   echo "aarch64-unknown-linux-gnu aarch64-linux-gnu" ;;
    arm)     echo "armv7-unknown-linux-gnueabihf arm-linux-gnueabihf" ;;
    ppc64le) echo "powerpc64le-unknown-linux-gnu powerpc64le-linux-gnu" ;;
    s390x)   echo "s390x-unknown-linux-gnu s390x-linux-gnu" ;;
    *) die "unsupported arch '$1'" "use any of: amd64 arm64 arm ppc64le s390x" ;;
  esac
}
for arch in "${ARCHES[@]}"; do row_of "$arch" >/dev/null; done
[ -x /usr/bin/cargo ] || die "/usr/bin/cargo is missing" "run bash tools/setup.sh (it installs Debian's rustc-web/cargo-web)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-cross-deps.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export CARGO_HOME="$WORK/cargo-home"
mkdir -p "$CARGO_HOME"
MANIFEST="$REPO_ROOT/packages/linkerd2-proxy/Cargo.toml"
RAW_TARGET="$WORK/raw-target"
# The executor's target folders (one per arch below it): emptied before each cold run.
EXEC_TARGET="$REPO_ROOT/.nx-multiarch/cargo-target/linkerd2-proxy"

cd "$REPO_ROOT"
# The executor as Nx would run it, minus Nx (tools/bench/run-executor.ts, through the
# plugin's one bench entry point), so the figure is the executor's own.
run_executor="node -r $REPO_ROOT/node_modules/@swc-node/register $REPO_ROOT/tools/bench/run-executor.ts"

# seconds COMMAND...: wall seconds of the command (its output into the log).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >>"$WORK/commands.log" 2>&1 || { tail -n 30 "$WORK/commands.log" >&2; die "failed: $*" "see the output above"; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The executor's environment for raw cargo (src/cross/cargo-plan.ts): linker,
# cc-rs compiler/archiver/flags, crt-static and path remapping.
raw_cargo() { # ARCH TARGET_DIR
  local triple prefix key cckey flags
  read -r triple prefix <<<"$(row_of "$1")"
  key=$(echo "$triple" | tr 'a-z-' 'A-Z_'); cckey=${triple//-/_}
  flags=$(printf '%s\x1f' -C target-feature=+crt-static "--remap-path-prefix=$REPO_ROOT=/nx-workspace" \
    "--remap-path-prefix=$CARGO_HOME=/cargo-home"); flags=${flags%$'\x1f'}
  env -u RUSTFLAGS RUSTC=/usr/bin/rustc "CARGO_TARGET_${key}_LINKER=$prefix-gcc" "CC_$cckey=$prefix-gcc" "AR_$cckey=$prefix-ar" \
    "CFLAGS_$cckey=-ffile-prefix-map=$REPO_ROOT=/nx-workspace -ffile-prefix-map=$CARGO_HOME=/cargo-home" \
    CARGO_ENCODED_RUSTFLAGS="$flags" CARGO_INCREMENTAL=0 SOURCE_DATE_EPOCH=0 \
    /usr/bin/cargo build --manifest-path "$MANIFEST" --target "$triple" --target-dir "$2" --profile release --locked --offline --bin linkerd2-proxy
}
executor() { $run_executor "$REPO_ROOT" cargo-cross linkerd2-proxy packages/linkerd2-proxy cargo-cross "$1"; }

log "fetch: cargo fetch --locked into an empty CARGO_HOME"
fetch_s=$(seconds env RUSTC=/usr/bin/rustc /usr/bin/cargo fetch --locked --manifest-path "$MANIFEST")
crates=$(grep -c '^name = ' "$REPO_ROOT/packages/linkerd2-proxy/Cargo.lock")
log "  ${fetch_s}s for $crates packages in Cargo.lock"

declare -A cold_raw cold_exec warm_raw warm_exec
cold_total=0
for arch in "${ARCHES[@]}"; do
  log "$arch: cold raw cargo build"
  rm -rf "$RAW_TARGET" "$EXEC_TARGET"
  cold_raw[$arch]=$(seconds raw_cargo "$arch" "$RAW_TARGET")
  log "$arch: cold cargo-cross executor"
  cold_exec[$arch]=$(seconds executor "$arch")
  log "$arch: warm raw / executor"
  warm_raw[$arch]=$(seconds raw_cargo "$arch" "$RAW_TARGET")
  warm_exec[$arch]=$(seconds executor "$arch")
  cold_total=$(awk -v a="$cold_total" -v b="${cold_exec[$arch]}" 'BEGIN { print a + b }')
  log "$arch: cold ${cold_raw[$arch]}s raw / ${cold_exec[$arch]}s executor; warm ${warm_raw[$arch]}s / ${warm_exec[$arch]}s"
  rm -rf "$RAW_TARGET"
done

mkdir -p "$REPO_ROOT/tmp/bench"
out="$REPO_ROOT/tmp/bench/cross-deps.md"
{
  echo "linkerd2-proxy ($crates packages in Cargo.lock), $(/usr/bin/cargo -V), $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| arch | cold raw cargo (s) | cold cargo-cross (s) | ratio | warm raw cargo (s) | warm cargo-cross (s) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for arch in "${ARCHES[@]}"; do
    echo "| $arch | ${cold_raw[$arch]} | ${cold_exec[$arch]} | $(ratio "${cold_exec[$arch]}" "${cold_raw[$arch]}") | ${warm_raw[$arch]} | ${warm_exec[$arch]} |"
  done
  echo
  echo "Fetching the crates once (cargo fetch --locked, empty CARGO_HOME): ${fetch_s}s, $(awk -v f="$fetch_s" -v t="$cold_total" 'BEGIN { printf "%.1f", 100 * f / (f + t) }')% of the cold matrix (fetch + cold cargo-cross for ${ARCHES[*]}: $(awk -v f="$fetch_s" -v t="$cold_total" 'BEGIN { printf "%.1f", f + t }')s)."
} | tee "$out"
log "written to ${out#"$REPO_ROOT"/}"
