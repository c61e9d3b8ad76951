# shellcheck shell=bash
# Shared helpers for the tools/ scripts. Source it; it defines functions only
# (plus REPO_ROOT), so sourcing it twice is harmless.

# The repository root, derived from this file's own place (tools/lib/..), so
# the scripts work from any checkout path and any current directory.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The name each script prefixes its messages with (set by the script).
: "${LOG_TAG:=tools}"

log() { printf '%s: %s\n' "$LOG_TAG" "$*" >&2; }

# die MESSAGE [HINT]: the problem, then what to do about it; exits 1.
die() {
  printf '%s: error: %s\n' "$LOG_TAG" "$1" >&2
  if [ $# -gt 1 ] && [ -n "$2" ]; then printf '%s: hint: %s\n' "$LOG_TAG" "$2" >&2; fi
  exit 1
}

# retry TRIES FIRST_DELAY_SECONDS COMMAND...: runs COMMAND until it succeeds,
# doubling the wait between tries. Package mirrors fail transiently (a mirror
# mid-sync answers "File has unexpected size"), so network steps go through it.
retry() {
  local tries=$1 delay=$2 attempt=1
  shift 2
  while true; do
    if "$@"; then return 0; fi
    if [ "$attempt" -ge "$tries" ]; then
      log "gave up after $attempt tries: $*"
      return 1
    fi
    log "try $attempt of $tries failed; retrying in ${delay}s: $*"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
# Node is always present (the workspace needs it); binding port 0 lets the
# kernel choose.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# require_root WHAT: setup and services change the machine (apt, binfmt,
# dockerd), which needs root.
require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    die "$1 needs root (it installs packages or changes machine-wide settings)" \
      "run it as root, e.g. sudo bash $0"
  fi
}

# seconds_since START_EPOCH_SECONDS: elapsed whole seconds, for progress lines.
seconds_since() { echo $(( $(date +%s) - $1 )); }
