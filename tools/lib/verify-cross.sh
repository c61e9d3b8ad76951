#!/usr/bin/env bash
# Proves the Rust cross set-up end to end: for each target arch, builds a tiny
# crate with Debian's rustc (cargo +system, or /usr/bin/cargo), links it
# statically with the arch's cross gcc, runs it under qemu-user and checks
# that the program itself reports the expected arch.
#
#   bash tools/lib/verify-cross.sh [arch...]   (default: arm64 arm ppc64le s390x)
#
# Exits non-zero when any requested arch fails; prints one line per arch.
set -euo pipefail
LOG_TAG=verify-cross
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# arch name -> Rust triple, cross gcc prefix, qemu-user binary, and what
# std::env::consts::ARCH prints there (DESIGN section 3).
target_row() {
  case "$1" in
    arm64)   echo "aarch64-unknown-linux-gnu aarch64-linux-gnu qemu-aarch64-static aarch64" ;;
    arm)     echo "armv7-unknown-linux-gnueabihf arm-linux-gnueabihf qemu-arm-static arm" ;;
    ppc64le) echo "powerpc64le-unknown-linux-gnu powerpc64le-linux-gnu qemu-ppc64le-static powerpc64" ;;
    s390x)   echo "s390x-unknown-linux-gnu s390x-linux-gnu qemu-s390x-static s390x" ;;
    *) die "unknown arch '$1'" "use one of: arm64 arm ppc64le s390x" ;;
  esac
}

# Debian's cargo through rustup's linked 'system' toolchain when present (what
# the workspace's cargo-cross uses), else Debian's binaries directly.
if command -v rustup >/dev/null && rustup toolchain list 2>/dev/null | grep -q '^system\b'; then
  cargo=(cargo +system)
else
  cargo=(env RUSTC=/usr/bin/rustc /usr/bin/cargo)
fi

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 arm ppc64le s390x)

work=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/hello/src"
cat >"$work/hello/Cargo.toml" <<'EOF'
[package]
name = "hello"
version = "0.1.0"
edition = "2021"

[profile.release]
strip = true
EOF
cat >"$work/hello/src/main.rs" <<'EOF'
fn main() {
    println!("hello from {}", std::env::consts::ARCH);
}
EOF

log "building with: ${cargo[*]}"
failed=()
for arch in "${arches[@]}"; do
  read -r triple prefix qemu expect <<<"$(target_row "$arch")"
  linker_var="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER"
  started=$(date +%s)
  if ! (cd "$work/hello" && env "$linker_var=$prefix-gcc" RUSTFLAGS="-C target-feature=+crt-static" \
        CARGO_TARGET_DIR="$work/target" "${cargo[@]}" build --quiet --offline --release --target "$triple") \
        >"$work/$arch.log" 2>&1; then
    log "$arch: BUILD FAILED ($triple):"; sed 's/^/    /' "$work/$arch.log" | tail -n 20 >&2
    failed+=("$arch"); continue
  fi
  out=$("$qemu" "$work/target/$triple/release/hello" 2>&1) || true
  if [ "$out" = "hello from $expect" ]; then
    log "$arch: ok ($triple, linked by $prefix-gcc, ran under $qemu: \"$out\") in $(seconds_since "$started")s"
  else
    log "$arch: RUN FAILED under $qemu: got \"$out\", expected \"hello from $expect\""
    failed+=("$arch")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  die "cross builds failed for: ${failed[*]}" "re-run bash tools/setup.sh (it installs the foreign Rust std and the cross gcc)"
fi
log "all of ${arches[*]} build and run"
