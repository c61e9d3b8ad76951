#!/usr/bin/env bash
# The RFC's strategy 1, as a plain script, for comparison only: per arch, build
# each binary with go build / cargo build for the target, `docker build
# --platform` each image's final stage with the binaries staged at bin/ in a
# temp context (final_stage_dockerfile, tools/lib/final-stage.sh), `docker push` <repo>:<tag>-<arch>, then `docker manifest
# create --insecure` and `docker manifest push --insecure` per image.
#
#   bash tools/bench/baseline-strategy1.sh --workspace DIR --registry HOST:PORT/PREFIX
#        --work DIR [--tag TAG] [--arches amd64,arm64,arm] [--phase compile|images|push|all]
#
# Needs DOCKER_HOST of a dockerd that trusts the loopback registry (tools/services.sh
# start dockerd; 127.0.0.0/8 is insecure by default), Go, Debian's cargo with the
# foreign Rust std (tools/setup.sh) and the cross gcc linkers. Compiler caches
# (GOCACHE, the cargo target folder) live under --work, so a cold run is a new --work.
set -euo pipefail
LOG_TAG=baseline
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/final-stage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/final-stage.sh"

workspace='' registry='' work='' tag=bench arches=amd64,arm64,arm phase=all
while [ $# -gt 0 ]; do
  case "$1" in
    --workspace) workspace=${2:?}; shift ;;
    --registry) registry=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --tag) tag=${2:?}; shift ;;
    --arches) arches=${2:?}; shift ;;
    --phase) phase=${2:?}; shift ;;
    *) die "unknown argument $1" "see the usage at the top of tools/bench/baseline-strategy1.sh" ;;
  esac
  shift
done
if [ -z "$workspace" ] || [ -z "$registry" ] || [ -z "$work" ]; then
  die "--workspace, --registry and --work are required" "e.g. --workspace . --registry 127.0.0.1:5000/baseline --work /tmp/baseline"
fi
case "$phase" in compile|images|push|all) ;; *) die "unknown phase $phase" "use compile, images, push or all" ;; esac
IFS=, read -r -a ARCH_LIST <<<"$arches"
workspace=$(cd "$workspace" && pwd)
mkdir -p "$work"
export GOCACHE="$work/gocache"
# Debian 12's docker.io 20.10 client builds with BuildKit without buildx; newer clients refuse to.
DOCKER=${BASELINE_DOCKER_CLI:-/usr/bin/docker}

# The platform table, as the RFC's scripts spell it per arch.
platform_of() { case "$1" in amd64) echo linux/amd64 ;; arm64) echo linux/arm64 ;; arm) echo linux/arm/v7 ;; *) die "arch $1 not in the baseline" "use amd64, arm64, arm" ;; esac; }
goenv_of() { case "$1" in amd64) echo GOARCH=amd64 ;; arm64) echo GOARCH=arm64 ;; arm) echo "GOARCH=arm GOARM=7" ;; esac; }
triple_of() { case "$1" in amd64) echo x86_64-unknown-linux-gnu ;; arm64) echo aarch64-unknown-linux-gnu ;; arm) echo armv7-unknown-linux-gnueabihf ;; esac; }
gcc_of() { case "$1" in amd64) echo x86_64-linux-gnu-gcc ;; arm64) echo aarch64-linux-gnu-gcc ;; arm) echo arm-linux-gnueabihf-gcc ;; esac; }

# Go binaries: module folder, main package, output name.
GO_BINARIES=(
  "packages/linkerd2-proxy-init . linkerd2-proxy-init"
  "packages/linkerd2 ./controller controller"
  "packages/linkerd2 ./web web"
  "packages/linkerd2 ./debug linkerd-debug"
)
# Images: repository, Dockerfile folder, binaries it copies from bin/.
IMAGES=(
  "linkerd2-proxy-init packages/linkerd2-proxy-init linkerd2-proxy-init"
  "linkerd2-controller packages/linkerd2/controller controller"
  "linkerd2-web packages/linkerd2/web web"
  "linkerd2-debug packages/linkerd2/debug linkerd-debug"
  "linkerd2-proxy-image packages/linkerd2/proxy linkerd2-proxy,LICENSE,linkerd2-proxy-init"
)

rustc_host() { /usr/bin/rustc -vV | awk '/^host:/ { print $2 }'; }

compile() {
  local arch out
  for arch in "${ARCH_LIST[@]}"; do
    out="$work/bin/$arch"
    mkdir -p "$out"
    for spec in "${GO_BINARIES[@]}"; do
      read -r dir main name <<<"$spec"
      # shellcheck disable=SC2046
      (cd "$workspace/$dir" && env CGO_ENABLED=0 GOOS=linux $(goenv_of "$arch") \
        go build -trimpath -ldflags '-s -w' -o "$out/$name" "$main")
    done
    local triple key cckey cross_env=()
    triple=$(triple_of "$arch")
    key=$(echo "$triple" | tr 'a-z-' 'A-Z_')
    cckey=${triple//-/_}
    # The proxy's crates (ring has C and assembly) need the cross gcc and ar
    # for cc-rs too, and are fetched once (cargo fetch) before the offline build.
    # Not for the build machine's own triple: its linker setting also applies to
    # build scripts and proc-macros, so setting it for one arch and not the next
    # would rebuild every host artifact (and all that depends on them) at each switch.
    if [ "$triple" != "$(rustc_host)" ]; then
      cross_env=("CARGO_TARGET_${key}_LINKER=$(gcc_of "$arch")" "CC_$cckey=$(gcc_of "$arch")" "AR_$cckey=$(gcc_of "$arch" | sed 's/-gcc$/-ar/')")
    fi
    env RUSTC=/usr/bin/rustc /usr/bin/cargo fetch --quiet --locked --manifest-path "$workspace/packages/linkerd2-proxy/Cargo.toml"
    env RUSTC=/usr/bin/rustc "${cross_env[@]}" \
      RUSTFLAGS='-C target-feature=+crt-static' \
      /usr/bin/cargo build --quiet --release --locked --offline --manifest-path "$workspace/packages/linkerd2-proxy/Cargo.toml" \
      --target "$triple" --target-dir "$work/cargo-target" --bin linkerd2-proxy
    cp "$work/cargo-target/$triple/release/linkerd2-proxy" "$out/linkerd2-proxy"
    cp "$workspace/packages/linkerd2-proxy/LICENSE" "$out/LICENSE"
  done
}

images() {
  local arch spec repo dir files context
  for arch in "${ARCH_LIST[@]}"; do
    for spec in "${IMAGES[@]}"; do
      read -r repo dir files <<<"$spec"
      context=$(mktemp -d "$work/context.XXXXXX")
      final_stage_dockerfile "$workspace/$dir/Dockerfile" >"$context/Dockerfile"
      mkdir -p "$context/bin"
      IFS=, read -r -a needed <<<"$files"
      for f in "${needed[@]}"; do cp "$work/bin/$arch/$f" "$context/bin/$f"; done
      DOCKER_BUILDKIT=1 "$DOCKER" build --quiet --platform "$(platform_of "$arch")" -t "$registry/$repo:$tag-$arch" "$context" >/dev/null
      rm -rf "$context"
    done
  done
}

push() {
  local spec repo arch refs
  for spec in "${IMAGES[@]}"; do
    read -r repo _ _ <<<"$spec"
    refs=()
    for arch in "${ARCH_LIST[@]}"; do
      "$DOCKER" push --quiet "$registry/$repo:$tag-$arch" >/dev/null
      refs+=("$registry/$repo:$tag-$arch")
    done
    "$DOCKER" manifest create --insecure --amend "$registry/$repo:$tag" "${refs[@]}" >/dev/null
    "$DOCKER" manifest push --insecure --purge "$registry/$repo:$tag" >/dev/null
  done
}

case "$phase" in
  compile) compile ;;
  images) images ;;
  push) push ;;
  all) compile; images; push ;;
esac
