#!/usr/bin/env bash
# Sets up a Debian 12 machine (as root) for this workspace: the Debian
# packages, Debian's current Rust (rustc-web/cargo-web, pinned to the version
# of the release's main suite) with the foreign std libraries of the same
# version that let it cross-compile, `cargo +system`, the busybox-static .debs
# that tests build base images from, and node_modules plus the compiled plugin.
#
# Idempotent: every step checks first and skips when its result is already
# there, so a second run on a set-up machine takes seconds.
#
#   bash tools/setup.sh            set up (or check) the machine
#   bash tools/setup.sh --verify   also cross-build and run a hello crate per arch
set -euo pipefail

LOG_TAG=setup
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/apt.sh
source "$REPO_ROOT/tools/lib/apt.sh"

# Debian packages the workspace's builds and tests use. Add new ones here.
APT_PACKAGES=(
  ca-certificates openssl curl apache2-utils python3-venv
  # mvn fetches the SPDX project's tools-java jar, which carries the SPDX 2.3 JSON schema.
  maven
  # Debian's Go 1.19 under /usr/lib/go-1.19 only, for the test of go-cross's "Go too old" message.
  # Not golang-go: its /usr/bin/go would shadow the current Go in nx:run-commands targets,
  # which put node's folder (/usr/bin) ahead of the rest of PATH.
  golang-1.19-go
  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu
  libc6-dev-arm64-cross libc6-dev-armhf-cross libc6-dev-ppc64el-cross libc6-dev-s390x-cross
  # The C++ runtime the cache-server image's Node.js links against (gcc's cross packages pull it in too).
  libstdc++6-arm64-cross libstdc++6-armhf-cross libstdc++6-ppc64el-cross libstdc++6-s390x-cross
  qemu-user-static
  docker.io docker-registry skopeo umoci
  # getcap: tests read back the file capabilities the native engine writes (setcap idiom).
  libcap2-bin
  hyperfine
  chromium iptables
)

# Debian's current Rust. rustc-web/cargo-web install as /usr/bin/rustc and
# /usr/bin/cargo (replacing the release's rustc 1.63, with which they
# conflict). The version is the one in the release's main suite, read from
# apt at run time: the security suite may carry a newer one, but the foreign
# std of exactly the same version must be downloadable for every arch, and
# main is the suite whose foreign lists are reliable (DESIGN section 9a).
# Their std (libstd-rust-web-dev, libstd-rust-web-<series>) is pinned too:
# apt would otherwise pick the newest and leave rustc-web uninstallable.
RUST_PACKAGES=(rustc-web cargo-web libstd-rust-web-dev)

# Debian architecture -> the Rust triple its libstd-rust-web-dev must provide
# (DESIGN section 3). Debian's rustc finds a target's std under
# /usr/lib/rustlib/<triple>.
RUST_FOREIGN_TARGETS=(
  arm64:aarch64-unknown-linux-gnu
  armhf:armv7-unknown-linux-gnueabihf
  ppc64el:powerpc64le-unknown-linux-gnu
  s390x:s390x-unknown-linux-gnu
)
RUSTLIB_DIR=/usr/lib/rustlib
# Written into each copied triple folder: the rustc package version it came
# from, so an upgraded rustc gets a matching std on the next run.
RUST_STD_STAMP=.nx-multiarch-debian-version

# busybox-static .debs (Debian architectures) that tests build multi-arch
# base images from; downloaded, never installed.
BUSYBOX_ARCHES=(amd64 arm64 armhf)
DEB_CACHE="$REPO_ROOT/.cache/debs"

# Go tools the supply-chain tests use, built from the Go module proxy (`go
# install`, GOBIN below; the proxy is whatever `go env GOPROXY` says) into a
# gitignored folder. Each is built once: a binary whose embedded module
# version matches is kept. cosign is the heavy one (minutes on 2 cores).
GO_TOOLS_DIR="$REPO_ROOT/.cache/go-tools"
GO_TOOLS=(
  cosign:github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
  crane:github.com/google/go-containerregistry/cmd/crane@v0.22.1
)
# A registry with the OCI 1.1 referrers API for the supply-chain tests (Debian's
# docker-registry 2.8 has none): go-containerregistry's pkg/registry with the
# API on, from tools/referrers-registry (its go.sum pins the module). Under a
# minute cold on 2 cores; rebuilt when its sources change.
REFERRERS_REGISTRY_SRC="$REPO_ROOT/tools/referrers-registry"
# The SPDX project's validator (spdx-tools on PyPI), in a venv, for the SBOM tests.
SPDX_VENV="$REPO_ROOT/.cache/spdx-venv"
SPDX_TOOLS_VERSION=0.8.5
# The SPDX 2.3 JSON schema itself, as the SPDX project ships it inside its
# tools-java jar (Maven Central, fetched with mvn); the tests validate every
# SPDX SBOM against it with ajv. Checked against this sha256.
SPDX_SCHEMA_ARTIFACT=org.spdx:tools-java:2.0.1
SPDX_SCHEMA_ENTRY=resources/spdx-schema-v2.3.json
SPDX_SCHEMA_SHA256=84ee72e4f0f12cbc119847b65be560726637bc22c6178838033275dbad5b8a22
SPDX_SCHEMA_FILE="$REPO_ROOT/.cache/spdx-schema/spdx-schema-v2.3.json"

# Kept inside node_modules so `npm ci` (which deletes node_modules) drops it.
NPM_STAMP="$REPO_ROOT/node_modules/.nx-multiarch-setup-lock.sha256"

VERIFY=false
for arg in "$@"; do
  case "$arg" in
    --verify) VERIFY=true ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" "usage: bash tools/setup.sh [--verify]" ;;
  esac
done

on_exit() {
  local status=$?
  apt_cleanup
  if [ "$status" -ne 0 ]; then log "FAILED (exit $status) after $(seconds_since "$started")s; see the messages above"; fi
}

# ---------------------------------------------------------------- packages --
install_apt_packages() {
  local missing=() pkg
  while read -r pkg; do missing+=("$pkg"); done < <(apt_missing_packages "${APT_PACKAGES[@]}")
  if [ ${#missing[@]} -eq 0 ]; then
    log "apt: all ${#APT_PACKAGES[@]} packages already installed, skipping apt"
    return 0
  fi
  log "apt: installing ${#missing[@]} missing packages: ${missing[*]}"
  apt_install_with_retries "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}" \
      "check the log above; a mirror mid-sync heals in minutes, so re-run bash tools/setup.sh"
  local still=()
  while read -r pkg; do still+=("$pkg"); done < <(apt_missing_packages "${APT_PACKAGES[@]}")
  [ ${#still[@]} -eq 0 ] || die "still not installed after apt-get install: ${still[*]}" \
    "run apt-get install -y ${still[*]} by hand to see why"
  log "apt: installed ${missing[*]}"
}

# ------------------------------------------------------ Debian's Rust --
# debian_main_version PKG: the version of PKG in this release's main suite
# (`<codename>/main` in apt-cache madison), empty when apt knows none.
debian_main_version() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "/etc/os-release names no VERSION_CODENAME" "this set-up is for Debian 12 (bookworm)"
  apt-cache madison "$1" 2>/dev/null |
    awk -F'|' -v suite="$codename/main" '{ gsub(/ /, "", $2); split($3, origin, " "); if (origin[2] == suite) { print $2; exit } }'
}

# rust_series VERSION: 1.85.0+dfsg3-1~deb12u3 -> 1.85 (the libstd-rust-web-<series> package).
rust_series() {
  local upstream=${1#*:}        # drop an epoch, if any
  upstream=${upstream%%[+~-]*}  # -> 1.85.0
  echo "$upstream" | cut -d. -f1,2
}

installed_version() { dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null | awk '$1 == "installed" { print $2 }'; }

install_debian_rust() {
  local version pkg ok=true
  version=$(debian_main_version rustc-web)
  if [ -z "$version" ]; then
    # A fresh machine may have no package lists yet.
    log "rust: apt knows no rustc-web yet; apt-get update"
    apt_get_logged "apt-get update" update || log "apt: update reported errors; using the lists it has"
    version=$(debian_main_version rustc-web)
  fi
  [ -n "$version" ] || die "apt knows no rustc-web in the main suite of this release" \
    "check /etc/apt/sources.list(.d) for the release's main suite, run apt-get update, then re-run bash tools/setup.sh"
  for pkg in "${RUST_PACKAGES[@]}"; do
    [ "$(installed_version "$pkg")" = "$version" ] || ok=false
  done
  if $ok; then
    log "rust: ${RUST_PACKAGES[*]} $version already installed ($(/usr/bin/rustc -V))"
    return 0
  fi
  local pins=() series
  series=$(rust_series "$version")
  for pkg in "${RUST_PACKAGES[@]}" "libstd-rust-web-$series"; do pins+=("$pkg=$version"); done
  log "rust: installing ${pins[*]} (replaces Debian's rustc/cargo 1.63 if present)"
  # --allow-downgrades: an apt-get upgrade may have taken them to the security
  # suite's newer version, whose foreign std this set-up does not fetch.
  apt_install_with_retries --allow-downgrades "${pins[@]}" ||
    die "apt-get install failed for: ${pins[*]}" "see ${APT_LOG#"$REPO_ROOT"/}; re-run bash tools/setup.sh"
  for pkg in "${RUST_PACKAGES[@]}"; do
    [ "$(installed_version "$pkg")" = "$version" ] ||
      die "$pkg is not at $version after apt-get install" "run apt-get install -y --allow-downgrades ${pins[*]} by hand to see why"
  done
  log "rust: installed $(/usr/bin/rustc -V), $(/usr/bin/cargo -V)"
}

# golang-go is only the /usr/bin/go symlink to Debian's Go 1.19 (golang-1.19-go stays).
# Nx's run-commands puts node's folder first on PATH, so with node in /usr/bin that
# old go would run every `go test` target instead of the Go that go.mod asks for.
remove_debian_go_symlink() {
  if ! dpkg-query -W -f='${Status}' golang-go 2>/dev/null | grep -q 'install ok installed'; then return 0; fi
  log "apt: removing golang-go (its /usr/bin/go -> Go 1.19 shadows the current Go in nx:run-commands targets)"
  apt-get remove -y -q golang-go >/dev/null ||
    die "apt-get remove golang-go failed" "remove it by hand (apt-get remove golang-go); golang-1.19-go stays"
}

# ---------------------------------------------------- foreign Rust std libs --
rust_std_present() { # TRIPLE VERSION
  local dir="$RUSTLIB_DIR/$1"
  [ -f "$dir/$RUST_STD_STAMP" ] && [ "$(cat "$dir/$RUST_STD_STAMP")" = "$2" ] &&
    compgen -G "$dir/lib/libstd-*.rlib" >/dev/null
}

install_foreign_rust_std() {
  command -v dpkg-query >/dev/null || die "dpkg-query not found" "this set-up is for Debian 12"
  local version series
  version=$(installed_version rustc-web)
  [ -n "$version" ] || die "Debian's rustc-web package is not installed" "the rust step installs it; re-run bash tools/setup.sh"
  series=$(rust_series "$version")

  local entry debarch triple todo=()
  for entry in "${RUST_FOREIGN_TARGETS[@]}"; do
    debarch=${entry%%:*}; triple=${entry#*:}
    if rust_std_present "$triple" "$version"; then
      log "rust std: $triple ($version) already present"
    else
      todo+=("$entry")
    fi
  done
  [ ${#todo[@]} -eq 0 ] && return 0

  local work pkgs=()
  foreign_apt_init; work=$FOREIGN_APT_DIR
  for entry in "${todo[@]}"; do
    debarch=${entry%%:*}
    pkgs+=("libstd-rust-web-dev:$debarch=$version" "libstd-rust-web-$series:$debarch=$version")
  done
  log "rust std: downloading ${pkgs[*]}"
  mkdir -p "$work/rust-debs"
  foreign_apt_download "$work/rust-debs" "${pkgs[@]}" ||
    die "could not download the foreign Rust std packages (${pkgs[*]})" \
      "the mirror must carry rustc $version for every arch; re-run bash tools/setup.sh later"

  for entry in "${todo[@]}"; do
    debarch=${entry%%:*}; triple=${entry#*:}
    local root="$work/rust-root-$debarch" found
    mkdir -p "$root"
    # Both packages go into one root: libstd-rust-web-dev's rustlib folder holds
    # symlinks into libstd-rust-web-<series>'s /usr/lib/<multiarch>/*.so, which
    # `cp -L` below then turns into real files, so nothing outside
    # /usr/lib/rustlib/<triple> is written.
    dpkg -x "$work/rust-debs/libstd-rust-web-dev_"*"_$debarch.deb" "$root"
    dpkg -x "$work/rust-debs/libstd-rust-web-$series"_*"_$debarch.deb" "$root"
    found=$(cd "$root/usr/lib/rustlib" 2>/dev/null && ls -d -- */ 2>/dev/null | tr -d / | paste -sd' ')
    [ -d "$root/usr/lib/rustlib/$triple/lib" ] ||
      die "libstd-rust-web-dev:$debarch holds [${found}] but not $triple" \
        "fix RUST_FOREIGN_TARGETS in tools/setup.sh to the triple the package really holds"
    # Copy beside, then rename: a killed run never leaves a half std folder
    # that a later run would take as present.
    rm -rf "${RUSTLIB_DIR:?}/.${triple:?}.new"
    cp -rL "$root/usr/lib/rustlib/$triple" "$RUSTLIB_DIR/.$triple.new"
    printf '%s\n' "$version" > "$RUSTLIB_DIR/.$triple.new/$RUST_STD_STAMP"
    rm -rf "${RUSTLIB_DIR:?}/${triple:?}"
    mv "$RUSTLIB_DIR/.$triple.new" "$RUSTLIB_DIR/$triple"
    log "rust std: installed $triple from libstd-rust-web-dev:$debarch $version (package holds: ${found})"
  done
}

link_rustup_system_toolchain() {
  if ! command -v rustup >/dev/null; then
    log "rustup: not found; use RUSTC=/usr/bin/rustc /usr/bin/cargo for cross builds"
    return 0
  fi
  if rustup toolchain list 2>/dev/null | grep -q '^system\b'; then
    log "rustup: toolchain 'system' already linked"
    return 0
  fi
  rustup toolchain link system /usr ||
    die "rustup toolchain link system /usr failed" "check that /usr/bin/rustc and /usr/bin/cargo exist"
  log "rustup: linked toolchain 'system' -> /usr (cargo +system uses Debian's rustc $(/usr/bin/rustc -V | cut -d' ' -f2))"
}

# -------------------------------------------------------- busybox .debs --
download_busybox_debs() {
  local arch missing=()
  for arch in "${BUSYBOX_ARCHES[@]}"; do
    if compgen -G "$DEB_CACHE/busybox-static_*_$arch.deb" >/dev/null; then
      log "debs: busybox-static $arch already in ${DEB_CACHE#"$REPO_ROOT"/}"
    else
      missing+=("busybox-static:$arch")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local work
  foreign_apt_init; work=$FOREIGN_APT_DIR
  mkdir -p "$work/busybox" "$DEB_CACHE"
  log "debs: downloading ${missing[*]}"
  foreign_apt_download "$work/busybox" "${missing[@]}" ||
    die "could not download ${missing[*]}" "re-run bash tools/setup.sh; the mirror may be mid-sync"
  # Downloaded beside, moved in whole: the cache never holds a partial .deb.
  mv "$work/busybox/"*.deb "$DEB_CACHE/"
  log "debs: $(cd "$DEB_CACHE" && ls busybox-static_*.deb | tr '\n' ' ')"
}

# ------------------------------------------------------------ Go modules --
# Go modules the workspace needs, fetched once through the Go module proxy
# (go env GOPROXY) into the module cache: the Go projects' dependencies (their
# go.sum checks them) and the OCI image-spec whose schema/ folder the tests
# validate against (pinned in its own go.mod). Builds then run offline.
GO_MODULE_DIRS=(
  packages/linkerd2-proxy-init
  packages/linkerd2
  packages/nx-multiarch/test/support/oci-image-spec
)

fetch_go_modules() {
  command -v go >/dev/null || die "go not found on PATH" "install Go 1.21 or newer and put its bin folder first on PATH"
  local version dir
  version=$(GOTOOLCHAIN=local go env GOVERSION)
  case "$version" in
    go1.1[0-9]|go1.1[0-9].*|go1.20|go1.20.*)
      die "the go first on PATH is $version, which cannot read the go 1.26.0 lines of this workspace" \
        "put Go 1.21 or newer first on PATH (it fetches the toolchain a go.mod asks for through GOPROXY)" ;;
  esac
  for dir in "${GO_MODULE_DIRS[@]}"; do
    # From the module cache alone first: a filled cache costs no network.
    if (cd "$REPO_ROOT/$dir" && GOPROXY=off go mod download 2>/dev/null); then
      log "go: modules of $dir already in the module cache"
      continue
    fi
    log "go: go mod download in $dir (through GOPROXY)"
    (cd "$REPO_ROOT/$dir" && retry 2 5 go mod download) ||
      die "go mod download failed in $dir" "check that GOPROXY is reachable (go env GOPROXY), then re-run bash tools/setup.sh"
  done
}

# ------------------------------------------------------------------- npm --
install_node_modules() {
  cd "$REPO_ROOT"
  local lock_hash
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  local need_ci=false
  if [ ! -d node_modules ]; then
    need_ci=true
  elif [ -f "$NPM_STAMP" ] && [ "$(cat "$NPM_STAMP")" = "$lock_hash" ]; then
    need_ci=false
  elif [ node_modules/.package-lock.json -nt package-lock.json ]; then
    # npm rewrites its hidden lockfile on every install: node_modules was
    # installed after the lockfile last changed (a developer's `npm install`).
    need_ci=false
  else
    need_ci=true
  fi

  if $need_ci; then
    log "npm: node_modules missing or older than package-lock.json: npm ci (its prepare script builds the plugin)"
    retry 2 5 npm ci --no-audit --no-fund ||
      die "npm ci failed" "see npm's messages above; if the plugin build failed, run npx tsc -p packages/nx-multiarch/tsconfig.json"
    log "npm: npm ci done"
  else
    log "npm: node_modules matches package-lock.json; building the plugin (incremental)"
    npm run --silent build:plugin ||
      die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"
  fi
  printf '%s\n' "$lock_hash" > "$NPM_STAMP"
}

# --------------------------------------------------------- supply chain --
go_bin() {
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; else command -v go; fi
}

install_go_tools() {
  local entry name spec module version go
  go=$(go_bin) || die "go is not on PATH" "install Go (the tools need Go >= 1.24), then re-run bash tools/setup.sh"
  mkdir -p "$GO_TOOLS_DIR"
  for entry in "${GO_TOOLS[@]}"; do
    name=${entry%%:*}
    spec=${entry#*:}
    module=${spec%@*}
    version=${spec##*@}
    if [ -x "$GO_TOOLS_DIR/$name" ] && "$go" version -m "$GO_TOOLS_DIR/$name" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+${module%/cmd/*}[[:space:]]+${version}([[:space:]]|$)"; then
      log "go tools: $name $version already built"
      continue
    fi
    log "go tools: building $name $version (go install $spec; takes minutes)"
    GOBIN="$GO_TOOLS_DIR" nice -n 10 "$go" install "$spec" ||
      die "go install $spec failed" "check that the Go module proxy ($("$go" env GOPROXY)) is reachable, then re-run"
  done
}

build_referrers_registry() {
  local go stamp out="$GO_TOOLS_DIR/referrers-registry"
  go=$(go_bin) || die "go is not on PATH" "install Go (the tools need Go >= 1.24), then re-run bash tools/setup.sh"
  stamp=$(cat "$REFERRERS_REGISTRY_SRC"/go.mod "$REFERRERS_REGISTRY_SRC"/go.sum "$REFERRERS_REGISTRY_SRC"/*.go | sha256sum | cut -c1-16)
  if [ -x "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "go tools: referrers-registry already built"
    return 0
  fi
  log "go tools: building referrers-registry (tools/referrers-registry)"
  mkdir -p "$GO_TOOLS_DIR"
  (cd "$REFERRERS_REGISTRY_SRC" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly nice -n 10 "$go" build -trimpath -o "$out" .) ||
    die "building tools/referrers-registry failed" "check that the Go module proxy ($("$go" env GOPROXY)) is reachable, then re-run"
  echo "$stamp" >"$out.stamp"
}

install_spdx_tools() {
  if [ -x "$SPDX_VENV/bin/pyspdxtools" ] && "$SPDX_VENV/bin/pip" show spdx-tools 2>/dev/null | grep -qx "Version: $SPDX_TOOLS_VERSION"; then
    log "spdx-tools: $SPDX_TOOLS_VERSION already in ${SPDX_VENV#"$REPO_ROOT"/}"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is missing" "apt-get install python3 python3-venv"
  python3 -m venv "$SPDX_VENV" || die "python3 -m venv failed" "apt-get install python3-venv, then re-run"
  retry 2 5 "$SPDX_VENV/bin/pip" install -q "spdx-tools==$SPDX_TOOLS_VERSION" ||
    die "pip install spdx-tools failed" "check that PyPI is reachable (pip config list), then re-run"
  log "spdx-tools: installed $SPDX_TOOLS_VERSION into ${SPDX_VENV#"$REPO_ROOT"/}"
}

install_spdx_schema() {
  if [ -f "$SPDX_SCHEMA_FILE" ] && [ "$(sha256sum "$SPDX_SCHEMA_FILE" | cut -d' ' -f1)" = "$SPDX_SCHEMA_SHA256" ]; then
    log "spdx schema: ${SPDX_SCHEMA_FILE#"$REPO_ROOT"/} already there"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn is missing" "apt-get install maven, then re-run"
  local tmp
  tmp=$(mktemp -d)
  retry 2 5 mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:2.8:copy -Dartifact="$SPDX_SCHEMA_ARTIFACT" \
    -DoutputDirectory="$tmp" -Dtransitive=false >"$tmp/mvn.log" 2>&1 ||
    { cat "$tmp/mvn.log" >&2; die "mvn could not fetch $SPDX_SCHEMA_ARTIFACT" "check that Maven Central is reachable for mvn (mvn help:effective-settings), then re-run"; }
  mkdir -p "$(dirname "$SPDX_SCHEMA_FILE")"
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$tmp"/*.jar "$SPDX_SCHEMA_ENTRY" >"$SPDX_SCHEMA_FILE.tmp" || die "$SPDX_SCHEMA_ENTRY is not in $SPDX_SCHEMA_ARTIFACT" "update SPDX_SCHEMA_* in tools/setup.sh"
  rm -rf "$tmp"
  [ "$(sha256sum "$SPDX_SCHEMA_FILE.tmp" | cut -d' ' -f1)" = "$SPDX_SCHEMA_SHA256" ] ||
    die "the SPDX schema from $SPDX_SCHEMA_ARTIFACT does not have the expected sha256" "update SPDX_SCHEMA_SHA256 in tools/setup.sh after checking the file"
  mv "$SPDX_SCHEMA_FILE.tmp" "$SPDX_SCHEMA_FILE"
  log "spdx schema: ${SPDX_SCHEMA_FILE#"$REPO_ROOT"/} from $SPDX_SCHEMA_ARTIFACT"
}

# ------------------------------------------------------------------ main --
require_root "tools/setup.sh"
started=$(date +%s)
trap on_exit EXIT

install_apt_packages
# The schema fetch is mostly waiting on Maven Central (about 3 minutes with an
# empty ~/.m2, 2 s with a warm one): it runs beside the rest and is collected below.
spdx_schema_log=$(mktemp)
install_spdx_schema >"$spdx_schema_log" 2>&1 &
spdx_schema_pid=$!
remove_debian_go_symlink
install_debian_rust
install_foreign_rust_std
link_rustup_system_toolchain
download_busybox_debs
fetch_go_modules
install_node_modules
install_go_tools
build_referrers_registry
install_spdx_tools
spdx_schema_status=0
wait "$spdx_schema_pid" || spdx_schema_status=$?
cat "$spdx_schema_log" >&2
rm -f "$spdx_schema_log"
[ "$spdx_schema_status" -eq 0 ] || exit "$spdx_schema_status"
if $VERIFY; then bash "$REPO_ROOT/tools/lib/verify-cross.sh"; fi
log "done in $(seconds_since "$started")s"
