#!/usr/bin/env bash
# A second baseline, "the way Linkerd builds today": one `docker buildx build
# --platform linux/amd64,linux/arm64,linux/arm/v7 --push` per image over the
# workspace's multi-stage Dockerfiles (Go compiled in `FROM --platform=$BUILDPLATFORM`
# stages with GOARCH from $TARGETARCH), run by the real BuildKit, with BuildKit's
# registry cache (`--cache-to type=registry,mode=max` / `--cache-from`).
#
#   bash tools/bench/baseline-buildx.sh [--out DIR] [--images controller,web,debug,proxy-init,proxy]
#        [--client buildx|buildctl] [--tools DIR] [--build-timeout SECONDS] [--tools-only]
#
# Scenarios, all images x 3 arches, built and pushed to a loopback registry, in
# the order of tools/bench/run.sh's (which runs this script with --buildx):
#   cold               empty BuildKit state, no registry cache yet (it exports one: mode=max)
#   noop               the same command again on that buildkitd, nothing changed
#   proxy-change       one string changed in packages/linkerd2-proxy/src/version.rs (in the
#                      clone), the same command again on that buildkitd
#   controller-change  one string constant changed in packages/linkerd2/controller/main.go
#   warm-cache         a fresh buildkitd (empty state), --cache-from the registry cache: a
#                      new CI machine, as run.sh's "fresh clone, warm remote cache"
# Each scenario builds every image, one `buildx build` after the other, as a
# CI job running Linkerd's bin/docker-build would. The changes run on the
# builder that ran the cold build, so its cache mounts are warm: Go's build
# cache (added to the bench copies of the Go Dockerfiles) and the proxy's
# per-arch target folder. Cache mounts are not part of the registry cache,
# so a fresh builder starts with them empty.
#
# The tools are built from the Go module proxy once and kept in --tools
# (default tmp/buildx-bench, gitignored): buildkitd and buildctl (moby/buildkit),
# buildx (docker/buildx), Debian's busybox-static (apt-get download, unpacked,
# not installed) and the Rust builder's root file system (mmdebstrap, a tar).
# runc is Debian's (`apt-get install -y runc`); mmdebstrap too
# (`apt-get install -y mmdebstrap`, only with the proxy image).
#
# No public image registry is reachable, so the golang builder image is assembled
# from this machine's toolchain (busybox for /bin/sh, the CA bundle for the Go
# proxy's TLS, `go env GOROOT` at /usr/local/go) and pushed to the loopback
# registry first, then passed with --build-arg GO_IMAGE; the cold run pulls it
# from there as CI pulls golang from Docker Hub. The Go proxy is read at run time
# (`go env GOPROXY`) and passed as --build-arg GOPROXY, which the bench copies of
# the Dockerfiles declare in their build stages (derive_dockerfile below); the
# copies live in the temp folder, the workspace's Dockerfiles are not changed.
# proxy-init's runtime stage is `FROM scratch` + RUN apt-get/setcap, which only
# the plugin's native engine can do: its RUN lines are dropped, as in
# tools/bench/baseline-strategy1.sh. The proxy image's Dockerfile downloads a
# release, which cannot run here: the baseline builds it from
# tools/bench/buildx/linkerd2-proxy.Dockerfile instead (cargo in a
# $BUILDPLATFORM stage, one target cache mount per arch), on a Rust builder
# image assembled by mmdebstrap from this machine's apt sources (Debian's
# rustc-web of the version tools/setup.sh pinned, gcc and the cross gcc) with
# this machine's target std (/usr/lib/rustlib/<triple>) and CA bundle added.
#
# Everything runs in a mktemp folder: a git clone of this checkout's HEAD (this
# checkout's sources are never edited), its own registry (tools/services.sh,
# stopped by its pid file), one rootful buildkitd per fresh state (runc worker,
# own --root, unix socket and buildkitd.toml), each stopped by its PID.
# Writes DIR/results.md, DIR/results.tsv and DIR/logs/ (DIR: tmp/bench-buildx).
# Wall seconds from date +%s.%N; CPU seconds of the client (buildx or buildctl,
# user+sys) and of buildkitd with all it ran (runc, go; /proc/PID/stat
# utime+stime+cutime+cstime). The registry's own CPU is not counted.
set -euo pipefail
LOG_TAG=baseline-buildx
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-edits.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-edits.sh"
# shellcheck source=../lib/proc.sh
source "$REPO_ROOT/tools/lib/proc.sh"

BUILDKIT_VERSION=${BUILDKIT_VERSION:-v0.34.2}
BUILDX_VERSION=${BUILDX_VERSION:-v0.38.2}
PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

out="$REPO_ROOT/tmp/bench-buildx"
tools="$REPO_ROOT/tmp/buildx-bench"
images=controller,web,debug,proxy-init,proxy
client=auto
build_timeout=1800
tools_only=false
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift ;;
    --tools) tools=${2:?--tools needs a folder}; shift ;;
    --images) images=${2:?--images needs a list}; shift ;;
    --client) client=${2:?--client needs buildx or buildctl}; shift ;;
    --build-timeout) build_timeout=${2:?--build-timeout needs seconds}; shift ;;
    --tools-only) tools_only=true ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1" "see the usage at the top of tools/bench/baseline-buildx.sh (--help)" ;;
  esac
  shift
done
case "$client" in auto|buildx|buildctl) ;; *) die "unknown client $client" "use --client buildx or --client buildctl" ;; esac

# Images: name, context folder in the workspace, Dockerfile in the workspace
# (derived for the bench, see derive_dockerfile) or, after @, a bench-only
# Dockerfile of this checkout used as it is.
image_spec() {
  case "$1" in
    controller) echo "linkerd2-controller packages/linkerd2 packages/linkerd2/controller/Dockerfile" ;;
    web) echo "linkerd2-web packages/linkerd2 packages/linkerd2/web/Dockerfile" ;;
    debug) echo "linkerd2-debug packages/linkerd2 packages/linkerd2/debug/Dockerfile" ;;
    proxy-init) echo "linkerd2-proxy-init packages/linkerd2-proxy-init packages/linkerd2-proxy-init/Dockerfile" ;;
    proxy) echo "linkerd2-proxy packages/linkerd2-proxy @tools/bench/buildx/linkerd2-proxy.Dockerfile" ;;
    *) die "image $1 is not in this baseline" "choose from controller, web, debug, proxy-init, proxy" ;;
  esac
}
IFS=, read -r -a IMAGE_LIST <<<"$images"
with_proxy=false
for i in "${IMAGE_LIST[@]}"; do image_spec "$i" >/dev/null; [ "$i" != proxy ] || with_proxy=true; done

for tool in git go curl jq docker-registry apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool not found" "run bash tools/setup.sh"
done
RUNC=$(command -v runc || true)
[ -n "$RUNC" ] || die "runc not found" "apt-get install -y runc"
[ "$(id -u)" -eq 0 ] || die "a rootful buildkitd needs root" "run it as root"

# --- tools, cached in $tools ---------------------------------------------------
# go_build_module MODULE VERSION OUTDIR LDFLAGS PACKAGE...: builds the packages of
# MODULE@VERSION as its own main module (buildkit's go.mod has exclude
# directives, so `go install pkg@version` refuses it), from the module cache.
go_build_module() {
  local module=$1 version=$2 outdir=$3 ldflags=$4 dir
  shift 4
  dir=$(cd "${TMPDIR:-/tmp}" && retry 3 5 timeout 600 go mod download -json "$module@$version" | jq -r .Dir) ||
    die "go mod download $module@$version failed" "list the served versions: go list -m -versions $module"
  rm -rf "$outdir.partial" && mkdir -p "$outdir.partial"
  (cd "$dir" && GOFLAGS=-mod=readonly timeout 1800 go build -trimpath -ldflags "$ldflags" -o "$outdir.partial/" "$@") ||
    die "building $module@$version with $(go version | awk '{print $3}') failed" \
      "try an older version (go list -m -versions $module), e.g. BUILDKIT_VERSION=... / BUILDX_VERSION=..."
  rm -rf "$outdir" && mv "$outdir.partial" "$outdir"
}
BK_DIR="$tools/buildkit-$BUILDKIT_VERSION"
BX_DIR="$tools/buildx-$BUILDX_VERSION"
BB_DIR="$tools/busybox-static"
if [ ! -x "$BK_DIR/buildkitd" ] || [ ! -x "$BK_DIR/buildctl" ]; then
  log "building buildkitd and buildctl $BUILDKIT_VERSION from the Go module proxy (once; kept in $BK_DIR)"
  go_build_module github.com/moby/buildkit "$BUILDKIT_VERSION" "$BK_DIR" \
    "-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" ./cmd/buildkitd ./cmd/buildctl
fi
if [ ! -x "$BX_DIR/buildx" ]; then
  log "building buildx $BUILDX_VERSION from the Go module proxy (once; kept in $BX_DIR)"
  go_build_module github.com/docker/buildx "$BUILDX_VERSION" "$BX_DIR" \
    "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION" ./cmd/buildx
fi
if [ ! -x "$BB_DIR/bin/busybox" ]; then
  log "fetching Debian's busybox-static (apt-get download, unpacked into $BB_DIR; nothing is installed)"
  rm -rf "$BB_DIR.partial" && mkdir -p "$BB_DIR.partial/deb"
  (cd "$BB_DIR.partial/deb" && retry 3 5 timeout 300 apt-get download -q busybox-static >/dev/null 2>&1) ||
    die "apt-get download busybox-static failed" "run apt-get update, then retry"
  dpkg-deb -x "$BB_DIR.partial"/deb/busybox-static_*.deb "$BB_DIR.partial"
  rm -rf "$BB_DIR.partial/deb"
  mv "$BB_DIR.partial" "$BB_DIR"
fi
# The Rust builder's root file system: Debian's rustc-web/cargo-web of the
# version tools/setup.sh installed on this machine (so the target std this
# machine has in /usr/lib/rustlib matches it), gcc and the cross gcc of each
# arch, made by mmdebstrap from this machine's apt sources; kept as a tar.
RUST_VERSION='' RUST_ROOTFS=''
if $with_proxy; then
  RUST_VERSION=$(dpkg-query -W -f '${Version}' rustc-web 2>/dev/null) ||
    die "Debian's rustc-web is not installed" "run bash tools/setup.sh"
  for triple in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    [ "$(cat "/usr/lib/rustlib/$triple/.nx-multiarch-debian-version" 2>/dev/null)" = "$RUST_VERSION" ] ||
      die "/usr/lib/rustlib/$triple is missing or not of rustc-web $RUST_VERSION" "run bash tools/setup.sh"
  done
  RUST_ROOTFS="$tools/rust-rootfs-$RUST_VERSION/rootfs.tar"
  if [ ! -f "$RUST_ROOTFS" ]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap not found (it makes the Rust builder image)" "apt-get install -y mmdebstrap"
    log "making the Rust builder's root file system with mmdebstrap (rustc-web $RUST_VERSION; once, kept in ${RUST_ROOTFS%/*})"
    mkdir -p "${RUST_ROOTFS%/*}" && rm -f "$RUST_ROOTFS.partial"
    sources=/etc/apt/sources.list.d/debian.sources
    [ -f "$sources" ] || sources=/etc/apt/sources.list
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    timeout 1200 mmdebstrap --quiet --variant=essential --format=tar --skip=output/dev \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --include="rustc-web=$RUST_VERSION,cargo-web=$RUST_VERSION,libstd-rust-web-dev=$RUST_VERSION,gcc,libc6-dev,gcc-aarch64-linux-gnu,gcc-arm-linux-gnueabihf,libc6-dev-arm64-cross,libc6-dev-armhf-cross,ca-certificates" \
      "$codename" "$RUST_ROOTFS.partial" "$sources" ||
      die "mmdebstrap failed" "run apt-get update; rustc-web $RUST_VERSION must still be served by the apt sources"
    mv "$RUST_ROOTFS.partial" "$RUST_ROOTFS"
  fi
fi
BUILDKITD="$BK_DIR/buildkitd" BUILDCTL="$BK_DIR/buildctl" BUILDX="$BX_DIR/buildx"
log "tools: $("$BUILDKITD" --version | head -n 1); buildx $("$BUILDX" version | awk '{print $2}'); runc $("$RUNC" --version | awk 'NR == 1 { print $3 }')"
if $tools_only; then exit 0; fi

# --- the temp folder, the registry, buildkitd ----------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-buildx.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
export DOCKER_CONFIG="$work/docker-config"
mkdir -p "$out/logs" "$DOCKER_CONFIG"
rm -f "$out/logs/"*.log
reg_port=$(free_port)
REG="127.0.0.1:$reg_port"
SOCK="$work/buildkitd.sock"
bk_pid='' bk_root=''
tsv="$work/results.tsv"
printf 'scenario\timage\tstarted_utc\twall_s\tclient_cpu_s\tbuildkitd_cpu_s\tstatus\tload1_at_start\n' >"$tsv"

# umount_under DIR: what a killed buildkitd left mounted under DIR (deepest first).
umount_under() {
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
stop_buildkitd() {
  [ -n "$bk_pid" ] || return 0
  stop_pid "$bk_pid" buildkitd 30
  wait "$bk_pid" 2>/dev/null || true
  umount_under "$bk_root"
  rm -rf "$bk_root"
  bk_pid=''
}
cleanup() {
  stop_buildkitd || true
  bash "$REPO_ROOT/tools/services.sh" stop registry "$reg_port" >/dev/null 2>&1 || true
  umount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_buildkitd NAME: a rootful buildkitd with an empty --root ($work/bk-NAME),
# runc worker on the host network (RUN steps reach the Go proxy as `go` on the
# host does), the loopback registry as plain http; listens on $SOCK.
start_buildkitd() {
  bk_root="$work/bk-$1"
  mkdir -p "$bk_root"
  cat >"$work/buildkitd-$1.toml" <<EOF
[worker.oci]
  enabled = true
  gc = false
[worker.containerd]
  enabled = false
[registry."$REG"]
  http = true
  insecure = true
EOF
  rm -f "$SOCK"
  "$BUILDKITD" --config "$work/buildkitd-$1.toml" --root "$bk_root" --addr "unix://$SOCK" \
    --oci-worker-binary "$RUNC" --oci-worker-net host </dev/null >>"$out/logs/buildkitd-$1.log" 2>&1 &
  bk_pid=$!
  if ! wait_until 60 "$bk_pid" "buildkitd ($1)" timeout 5 "$BUILDCTL" --addr "unix://$SOCK" debug workers; then
    show_log_tail "$out/logs/buildkitd-$1.log"
    die "buildkitd did not start" "see $out/logs/buildkitd-$1.log"
  fi
  log "buildkitd ($1) running, pid $bk_pid, state in ${bk_root#"$work"/}"
}
# minus A B: A - B, two decimals.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# cpu_of PID: CPU seconds of PID and its reaped children (utime+stime+cutime+cstime).
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}

log "services in $work: registry on $REG"
bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null

# The client: buildx with the remote driver on $SOCK, else buildctl.
if [ "$client" != buildctl ]; then
  if timeout 60 "$BUILDX" create --name nxm-bench --driver remote "unix://$SOCK" >"$out/logs/buildx-create.log" 2>&1; then
    client=buildx
  elif [ "$client" = buildx ]; then
    die "buildx create --driver remote failed" "see $out/logs/buildx-create.log, or use --client buildctl"
  else
    log "buildx create --driver remote failed (see $out/logs/buildx-create.log): using buildctl"
    client=buildctl
  fi
fi
log "client: $client"

GOPROXY_VALUE=$(go env GOPROXY)
GO_VERSION=$(go env GOVERSION)
GO_IMAGE="$REG/bench/golang:$GO_VERSION-busybox"
CACHE_REPO="$REG/buildx-cache"
IMAGE_REPO="$REG/buildx"

# build NAME CONTEXT DOCKERFILE REF [--cache] [--platform P] [--build-arg K=V]... [--context NAME=DIR]...:
# one build with push, through buildx (remote driver) or buildctl.
build() {
  local name=$1 context=$2 dockerfile=$3 ref=$4 platform=$PLATFORMS cache=false
  local args=() bargs=() cargs=()
  shift 4
  while [ $# -gt 0 ]; do
    case "$1" in
      --cache) cache=true ;;
      --platform) platform=$2; shift ;;
      --build-arg) bargs+=("$2"); shift ;;
      --context) cargs+=("$2"); shift ;;
    esac
    shift
  done
  if [ "$client" = buildx ]; then
    args=(--builder nxm-bench build --progress=plain --platform "$platform" -f "$dockerfile" -t "$ref" --push)
    for a in "${bargs[@]}"; do args+=(--build-arg "$a"); done
    for c in "${cargs[@]}"; do args+=(--build-context "$c"); done
    if $cache; then
      args+=(--cache-from "type=registry,ref=$CACHE_REPO/$name:buildcache"
        --cache-to "type=registry,ref=$CACHE_REPO/$name:buildcache,mode=max")
    fi
    timeout "$build_timeout" "$BUILDX" "${args[@]}" "$context"
  else
    args=(--addr "unix://$SOCK" build --progress=plain --frontend dockerfile.v0
      --local "context=$context" --local "dockerfile=$(dirname "$dockerfile")"
      --opt "filename=$(basename "$dockerfile")" --opt "platform=$platform"
      --output "type=image,name=$ref,push=true,registry.insecure=true")
    for a in "${bargs[@]}"; do args+=(--opt "build-arg:$a"); done
    for c in "${cargs[@]}"; do args+=(--opt "context:${c%%=*}=local:${c%%=*}" --local "$c"); done
    if $cache; then
      args+=(--import-cache "type=registry,ref=$CACHE_REPO/$name:buildcache,registry.insecure=true"
        --export-cache "type=registry,ref=$CACHE_REPO/$name:buildcache,mode=max,registry.insecure=true")
    fi
    timeout "$build_timeout" "$BUILDCTL" "${args[@]}"
  fi
}

# --- the golang builder image, pushed to the loopback registry (not measured) ---
start_buildkitd setup
log "assembling the golang builder image ($GO_VERSION, busybox, CA bundle) as $GO_IMAGE"
gi="$work/golang-image"
mkdir -p "$gi/rootfs/bin" "$gi/rootfs/etc/ssl/certs" "$gi/rootfs/tmp" "$gi/rootfs/root" "$gi/rootfs/go"
cp "$BB_DIR/bin/busybox" "$gi/rootfs/bin/busybox"
ln -s busybox "$gi/rootfs/bin/sh"
cp -L /etc/ssl/certs/ca-certificates.crt "$gi/rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$gi/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$gi/rootfs/etc/group"
chmod 1777 "$gi/rootfs/tmp"
# The official image's settings; GOTOOLCHAIN=local so a go.mod never asks for a download.
cat >"$gi/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
COPY --from=goroot / /usr/local/go
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
WORKDIR /go
EOF
if ! build golang-image "$gi" "$gi/Dockerfile" "$GO_IMAGE" --platform linux/amd64 \
  --context "goroot=$(go env GOROOT)" >"$out/logs/golang-image.log" 2>&1; then
  tail -n 20 "$out/logs/golang-image.log" >&2
  die "building the golang builder image failed" "see $out/logs/golang-image.log"
fi
if $with_proxy; then
  RUST_IMAGE="$REG/bench/rust:${RUST_VERSION%%+*}-debian"
  log "assembling the Rust builder image (rustc-web $RUST_VERSION, cross gcc, target std of this machine) as $RUST_IMAGE"
  ri="$work/rust-image"
  mkdir -p "$ri/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$ri/certs/ca-certificates.crt"
  cat >"$ri/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
COPY --from=rustlib-aarch64 / /usr/lib/rustlib/aarch64-unknown-linux-gnu/
COPY --from=rustlib-armv7 / /usr/lib/rustlib/armv7-unknown-linux-gnueabihf/
COPY --from=certs ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  if ! build rust-image "${RUST_ROOTFS%/*}" "$ri/Dockerfile" "$RUST_IMAGE" --platform linux/amd64 \
    --context "rustlib-aarch64=/usr/lib/rustlib/aarch64-unknown-linux-gnu" \
    --context "rustlib-armv7=/usr/lib/rustlib/armv7-unknown-linux-gnueabihf" \
    --context "certs=$ri/certs" >"$out/logs/rust-image.log" 2>&1; then
    tail -n 20 "$out/logs/rust-image.log" >&2
    die "building the Rust builder image failed" "see $out/logs/rust-image.log"
  fi
fi
stop_buildkitd

# --- the clone and the bench copies of the Dockerfiles ---------------------------
clone="$work/workspace"
git clone --quiet --no-hardlinks "$REPO_ROOT" "$clone"
log "cloned HEAD ($(git -C "$clone" rev-parse --short HEAD)) into ${clone#"$work"/}"
# derive_dockerfile FILE: FILE with `ARG GOPROXY` in every stage but the last
# (the proxy value itself is a build-arg, never in a file), Go's build cache
# as a cache mount on every RUN of those stages (the cache is safe for the
# three arches' builds at once and keyed by GOARCH), and the last stage's
# RUN lines dropped (FROM scratch: no shell; only proxy-init has any).
derive_dockerfile() {
  local last
  last=$(grep -n '^FROM' "$1" | tail -n 1 | cut -d: -f1)
  awk -v last="$last" '
    skipping { skipping = /\\$/; next }
    NR >= last && /^RUN / { skipping = /\\$/; next }
    NR < last && /^RUN / { sub(/^RUN /, "RUN --mount=type=cache,target=/root/.cache/go-build ") }
    { print }
    /^FROM / && NR < last { print "ARG GOPROXY"; print "ENV GOCACHE=/root/.cache/go-build" }
  ' "$1"
}
mkdir -p "$work/dockerfiles"
for i in "${IMAGE_LIST[@]}"; do
  read -r _ _ df <<<"$(image_spec "$i")"
  case "$df" in
    @*) cp "$REPO_ROOT/${df#@}" "$work/dockerfiles/$i.Dockerfile" ;;
    *) derive_dockerfile "$clone/$df" >"$work/dockerfiles/$i.Dockerfile" ;;
  esac
done


# --- the scenarios ---------------------------------------------------------------
failed=false
# scenario NAME: every image, one build after the other, with the registry cache.
scenario() {
  local s=$1 i repo ctx extra t0 t1 c0 c1 k0 k1 started status tk0 tk1 tc0 tc1 ts load load0
  log "scenario $s"
  tk0=$(cpu_of "$bk_pid") tc0=$(date +%s.%N) ts=$(date -u +%H:%M:%S) load0=$(cut -d' ' -f1 /proc/loadavg)
  for i in "${IMAGE_LIST[@]}"; do
    read -r repo ctx _ <<<"$(image_spec "$i")"
    # What the proxy's build needs beyond the Go builder.
    extra=()
    if [ "$i" = proxy ]; then
      extra=(--build-arg "RUST_IMAGE=$RUST_IMAGE" --context "proxy-init-src=$clone/packages/linkerd2-proxy-init")
    fi
    started=$(date -u +%H:%M:%S) k0=$(cpu_of "$bk_pid") status=ok load=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    if ! c0=$( { TIMEFORMAT='%U %S'; time build "$repo" "$clone/$ctx" "$work/dockerfiles/$i.Dockerfile" "$IMAGE_REPO/$repo:bench" --cache \
      --build-arg "GO_IMAGE=$GO_IMAGE" --build-arg "GOPROXY=$GOPROXY_VALUE" "${extra[@]}" >>"$out/logs/$s-$i.log" 2>&1; } 2>&1 ); then
      status=failed failed=true
      log "$s $i FAILED: see $out/logs/$s-$i.log"
      c0=$(tail -n 1 <<<"$c0")
    fi
    t1=$(date +%s.%N) k1=$(cpu_of "$bk_pid")
    c1=$(awk '{ printf "%.2f", $1 + $2 }' <<<"$c0")
    printf '%s\t%s\t%s\t%.2f\t%s\t%.2f\t%s\t%s\n' "$s" "$i" "$started" "$(minus "$t1" "$t0")" "$c1" "$(minus "$k1" "$k0")" "$status" "$load" >>"$tsv"
  done
  tc1=$(date +%s.%N) tk1=$(cpu_of "$bk_pid")
  awk -F'\t' -v s="$s" -v ts="$ts" -v load="$load0" -v wall="$(minus "$tc1" "$tc0")" -v k="$(minus "$tk1" "$tk0")" '
    $1 == s { c += $5; if ($7 != "ok") st = "failed" }
    END { printf "%s\tall\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\n", s, ts, wall, c, k, st ? st : "ok", load }' "$tsv" >>"$tsv"
}
# check_pushed: every image's index in the registry names the 3 platforms.
check_pushed() {
  local i repo platforms
  for i in "${IMAGE_LIST[@]}"; do
    read -r repo _ _ <<<"$(image_spec "$i")"
    platforms=$(curl -fsS --max-time 10 -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
      "http://$REG/v2/buildx/$repo/manifests/bench" |
      jq -r '[.manifests[].platform | select(.os != "unknown") | .os + "/" + .architecture + (if .variant then "/" + .variant else "" end)] | sort | join(",")') || platforms='?'
    log "pushed $IMAGE_REPO/$repo:bench: $platforms"
    [ "$platforms" = "linux/amd64,linux/arm/v7,linux/arm64" ] || { log "$repo: expected 3 platforms"; failed=true; }
  done
}

start_buildkitd cold
scenario cold
check_pushed
scenario noop
if $with_proxy; then
  edit_proxy_line "$clone"
  scenario proxy-change
fi
edit_controller_line "$clone"
scenario controller-change
check_pushed
log "buildkitd (cold) CPU over its whole life: $(cpu_of "$bk_pid") s"
stop_buildkitd

start_buildkitd warm
scenario warm-cache
check_pushed
stop_buildkitd

# --- results -----------------------------------------------------------------------
cp "$tsv" "$out/results.tsv"
{
  echo "# Baseline: docker buildx build --platform $PLATFORMS (BuildKit $BUILDKIT_VERSION, registry cache)"
  echo
  if [ "$client" = buildx ]; then client_desc="buildx $BUILDX_VERSION with the remote driver"; else client_desc="buildctl $BUILDKIT_VERSION"; fi
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`bash tools/bench/baseline-buildx.sh\`, client $client_desc" \
    "on a rootful buildkitd with the runc worker" \
    "($("$RUNC" --version | awk 'NR == 1 { print $3 }')), builder image $GO_VERSION + busybox from this machine," \
    "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Images: ${IMAGE_LIST[*]} (one build per image, 3 platforms each, pushed to a loopback registry)."
  echo "Seconds of wall time (date +%s.%N); client CPU = user+sys of $client; buildkitd CPU = buildkitd and all it ran (runc, go)."
  echo
  echo 'Scenarios: cold = empty BuildKit state, no registry cache yet (exports one, mode=max); noop = the same again on'
  echo 'that buildkitd; proxy-change = one string changed in packages/linkerd2-proxy/src/version.rs; controller-change = one'
  echo 'string constant changed in packages/linkerd2/controller/main.go (both on the cold run'"'"'s buildkitd, cache mounts'
  echo 'warm); warm-cache = a fresh buildkitd, --cache-from the registry cache. Every scenario runs the build of every'
  echo 'image (all with --cache-from and --cache-to).'
  echo
  echo '| scenario | started (UTC) | wall (s) | client CPU (s) | buildkitd CPU (s) | status | load average (1 min) at start |'
  echo '| --- | --- | ---: | ---: | ---: | --- | ---: |'
  awk -F'\t' '$2 == "all" { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $4, $5, $6, $7, $8 }' "$tsv"
  echo
  echo 'Per image:'
  echo
  echo '| scenario | image | started (UTC) | wall (s) | client CPU (s) | buildkitd CPU (s) | status |'
  echo '| --- | --- | --- | ---: | ---: | ---: | --- |'
  awk -F'\t' 'NR > 1 && $2 != "all" { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$tsv"
} >"$out/results.md"
log "wrote $out/results.md and $out/results.tsv"
cat "$out/results.md"
if $failed; then die "some builds failed" "see the logs in $out/logs/"; fi
