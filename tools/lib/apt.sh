# shellcheck shell=bash
# apt helpers for tools/setup.sh. Source after common.sh.
#
# Two kinds of apt use:
# - host packages: the machine's own lists and dpkg database;
# - foreign .debs (other architectures) fetched with `apt-get download` from a
#   SEPARATE, temporary lists folder with extra APT::Architectures. dpkg
#   architectures are never added: a foreign list that fails to download (a
#   mirror mid-sync: "File has unexpected size") must not break the host's apt.

APT_LOG_DIR="$REPO_ROOT/tmp/setup"
APT_LOG="$APT_LOG_DIR/apt.log"

# Debian architectures whose package lists the foreign apt reads.
: "${FOREIGN_APT_ARCHES:=amd64 arm64 armhf ppc64el s390x}"

APT_ADDED_POLICY_RC=false
FOREIGN_APT_DIR=""
FOREIGN_LISTS_FETCHED=false

# apt_missing_packages PKG...: prints each PKG that is not installed, one a line.
apt_missing_packages() {
  local installed pkg
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
  for pkg in "$@"; do
    grep -qx -- "$pkg" <<<"$installed" || echo "$pkg"
  done
}

# apt_get_logged LABEL APT-GET-ARGS...: runs apt-get non-interactively with
# its full output in $APT_LOG (the console gets only a tail on failure, so CI
# logs stay readable). Returns apt-get's status.
apt_get_logged() {
  local label=$1 part
  shift
  mkdir -p "$APT_LOG_DIR"
  part="$APT_LOG.part"
  local status=0
  DEBIAN_FRONTEND=noninteractive apt-get -q \
    -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Use-Pty=0 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "$@" </dev/null >"$part" 2>&1 || status=$?
  { printf '\n### apt-get %s (exit %s)\n' "$*" "$status"; cat "$part"; } >>"$APT_LOG"
  if [ "$status" -ne 0 ]; then
    # apt's own error lines say what failed; the full output is in the log.
    log "$label exited $status (full output in ${APT_LOG#"$REPO_ROOT"/}):"
    { grep -E '^(E|Err):' "$part" || tail -n 15 "$part"; } | tail -n 8 | sed 's/^/    /' >&2
  fi
  rm -f "$part"
  return "$status"
}

# Packages such as docker.io and docker-registry start their service from
# their postinst; that daemon would listen on every interface (and take port
# 5000). A policy-rc.d that answers 101 stops that; added only when the
# machine has none, and removed again by apt_cleanup.
apt_block_service_starts() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# added by tools/setup.sh while it installs packages\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    APT_ADDED_POLICY_RC=true
  fi
}

# apt_install_with_retries PKG...: update then install, up to 4 times with a
# growing wait. A failed update is not fatal by itself: lists that did
# download are kept, and the install says whether they were enough.
apt_install_with_retries() {
  apt_block_service_starts
  local attempt delay=5
  for attempt in 1 2 3 4; do
    log "apt: apt-get update (try $attempt)"
    apt_get_logged "apt-get update" update || log "apt: update reported errors; trying the install with the lists it has"
    log "apt: apt-get install (try $attempt)"
    if apt_get_logged "apt-get install" install -y --no-install-recommends "$@"; then return 0; fi
    if [ "$attempt" -lt 4 ]; then log "apt: waiting ${delay}s before the next try"; sleep "$delay"; fi
    delay=$((delay * 2))
  done
  return 1
}

# foreign_apt_init: creates the temporary apt state folder once per run and
# sets FOREIGN_APT_DIR (not in a subshell, so the value sticks).
foreign_apt_init() {
  [ -n "$FOREIGN_APT_DIR" ] && return 0
  FOREIGN_APT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-apt.XXXXXX")
  chmod 755 "$FOREIGN_APT_DIR"
  mkdir -p "$FOREIGN_APT_DIR/lists/partial" "$FOREIGN_APT_DIR/cache/archives/partial"
}

foreign_apt_get() {
  local arch_opts=() arch
  local label="apt-get $1 (foreign lists)"
  for arch in $FOREIGN_APT_ARCHES; do arch_opts+=(-o "APT::Architectures::=$arch"); done
  apt_get_logged "$label" \
    -o "Dir::State::Lists=$FOREIGN_APT_DIR/lists" \
    -o "Dir::Cache=$FOREIGN_APT_DIR/cache" \
    -o APT::Sandbox::User=root \
    "${arch_opts[@]}" "$@"
}

# foreign_apt_download DEST PKG[:ARCH][=VERSION]...: downloads the .debs into
# DEST. The lists are fetched on first use and again before each retry.
foreign_apt_download() {
  local dest=$1 attempt delay=5
  shift
  foreign_apt_init
  for attempt in 1 2 3 4; do
    if ! $FOREIGN_LISTS_FETCHED || [ "$attempt" -gt 1 ]; then
      log "apt (foreign lists: $FOREIGN_APT_ARCHES): apt-get update (try $attempt)"
      # Some lists (often a security suite's foreign arch) can be mid-sync;
      # the packages needed here come from the main suite, so go on and let
      # the download tell whether what it needs is there.
      foreign_apt_get update || log "apt (foreign lists): update reported errors; trying the download anyway"
      FOREIGN_LISTS_FETCHED=true
    fi
    if (cd "$dest" && foreign_apt_get download "$@"); then return 0; fi
    if [ "$attempt" -lt 4 ]; then log "apt (foreign lists): waiting ${delay}s before the next try"; sleep "$delay"; fi
    delay=$((delay * 2))
  done
  return 1
}

apt_cleanup() {
  if $APT_ADDED_POLICY_RC; then rm -f /usr/sbin/policy-rc.d; fi
  if [ -n "$FOREIGN_APT_DIR" ]; then rm -rf "$FOREIGN_APT_DIR"; fi
}
