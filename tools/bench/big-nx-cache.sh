#!/usr/bin/env bash
# What a 3 GiB task output costs in Nx's local cache and in the remote cache
# (`nx-multiarch cache-server`, file storage): one cached target whose output
# is one 3 GiB file of random bytes (incompressible, as a big image's gzip
# layers are), run four times:
#   1. cold: runs, stores the output in the local cache and uploads it;
#   2. local hit: the output deleted, restored from the local cache;
#   3. remote hit: output and local cache deleted, downloaded and restored;
#   4. over the server's default --max-entry-size (2GiB): what Nx does on a 413
#      (it retries without end, so this run is stopped after 5 minutes).
# Prints seconds, peak RSS of the Nx process tree (/usr/bin/time -v) and disk
# used by each store, then the cache server's peak RSS.
#
#   bash tools/bench/big-nx-cache.sh            (NX_MULTIARCH_BIG_MIB=3072 by default)
#
# Needs about 4x the output size free under ${TMPDIR:-/tmp}; all removed at the end.
set -euo pipefail
LOG_TAG=big-nx-cache
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
MIB=${NX_MULTIARCH_BIG_MIB:-3072}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-big-nx-cache.XXXXXX")
SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$REPO_ROOT"
npm run --silent build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"

log "generating a ${MIB} MiB input of random bytes"
node -e '
  const fs = require("fs"), crypto = require("crypto");
  const fd = fs.openSync(process.argv[1], "w");
  for (let i = 0; i < Number(process.argv[2]); i++) fs.writeSync(fd, crypto.randomBytes(1024 * 1024));
  fs.closeSync(fd);
' "$WORK/input.bin" "$MIB"

NX_CACHE_BENCH_RW=$(node -e 'console.log("rw-" + require("crypto").randomBytes(24).toString("hex"))')
export NX_CACHE_BENCH_RW
# start_server NAME EXTRA_ARGS...: a cache server under /usr/bin/time -v (its peak RSS is read when it stops); sets SERVER_URL.
start_server() {
  local name=$1
  shift
  mkdir -p "$WORK/$name"
  /usr/bin/time -v -o "$WORK/$name.time" node "$REPO_ROOT/packages/nx-multiarch/bin/nx-multiarch.js" cache-server \
    --storage "file://$WORK/$name/store" --port 0 --read-write-token-env NX_CACHE_BENCH_RW "$@" >"$WORK/$name.url" 2>"$WORK/$name.log" &
  SERVER_PIDS+=($!)
  for _ in $(seq 1 150); do [ -s "$WORK/$name.url" ] && break; sleep 0.2; done
  SERVER_URL=$(head -n1 "$WORK/$name.url")
  [ -n "$SERVER_URL" ] || die "the cache server did not start" "see $WORK/$name.log"
}

# stop_server TIME_PID: stops the server under that /usr/bin/time, so time writes its report.
stop_server() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do kill -TERM "$child" 2>/dev/null || true; done
  wait "$1" 2>/dev/null || true
}

NXWS="$WORK/ws"
mkdir -p "$NXWS/big"
ln -s "$REPO_ROOT/node_modules" "$NXWS/node_modules"
printf '{ "name": "big-nx-cache", "private": true }\n' >"$NXWS/package.json"
printf '{ "cacheDirectory": ".nx/cache", "neverConnectToCloud": true }\n' >"$NXWS/nx.json"
cat >"$NXWS/big/project.json" <<JSON
{ "name": "big", "targets": { "out": {
  "executor": "nx:run-commands", "cache": true, "outputs": ["{projectRoot}/dist"], "inputs": [],
  "options": { "command": "mkdir -p big/dist && cp $WORK/input.bin big/dist/out.bin" } } } }
JSON

ROWS=()
# nx_run NAME SERVER_URL [SECONDS]: one `nx run big:out`, timed (killed after SECONDS, default 3600), peak RSS of its process tree.
nx_run() {
  local name=$1 url=$2 limit=${3:-3600} start end status=0 rss
  start=$(date +%s.%N)
  (cd "$NXWS" && env NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SELF_HOSTED_REMOTE_CACHE_SERVER="$url" \
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN="$NX_CACHE_BENCH_RW" \
    /usr/bin/time -v -o "$WORK/nx.time" timeout -s KILL "$limit" npx --no-install nx run big:out --outputStyle=static >"$WORK/nx.out" 2>&1) || status=$?
  end=$(date +%s.%N)
  rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/nx.time")
  local said
  said=$(grep -Eo 'existing outputs match the cache|local cache|remote cache|Successfully ran target[^$]*|413|Payload Too Large|failed' "$WORK/nx.out" | sort -u | tr '\n' ';' || true)
  ROWS+=("| $name | $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') | $rss | $(du -sm "$NXWS/.nx/cache" 2>/dev/null | cut -f1 || echo 0) | exit $status; ${said:-} |")
  log "$name: exit $status, peak RSS ${rss} MB"
}

start_server remote --max-entry-size 8GiB
nx_run "1. cold: run, store locally, upload" "$SERVER_URL"
REMOTE_MB=$(du -sm "$WORK/remote/store" | cut -f1)
rm -rf "$NXWS/big/dist"
nx_run "2. local hit: restore from .nx/cache" "$SERVER_URL"
cmp -s "$NXWS/big/dist/out.bin" "$WORK/input.bin" || die "the local restore differs from the output" "Nx restored other bytes"
rm -rf "$NXWS/big/dist" "$NXWS/.nx"
nx_run "3. remote hit: download and restore" "$SERVER_URL"
cmp -s "$NXWS/big/dist/out.bin" "$WORK/input.bin" || die "the remote restore differs from the output" "Nx restored other bytes"
stop_server "${SERVER_PIDS[0]}"
SERVER_RSS=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/remote.time")
rm -rf "$WORK/remote" "$NXWS/big/dist" "$NXWS/.nx"

start_server capped
nx_run "4. server at its default 2GiB entry cap" "$SERVER_URL" 300
CAPPED_LOG=$(grep -E ' 413 ' "$WORK/capped.log" | head -n 1 || true)
stop_server "${SERVER_PIDS[1]}"

printf '\n| run | seconds | Nx peak RSS MB | .nx/cache MB | outcome |\n| --- | ---: | ---: | ---: | --- |\n'
printf '%s\n' "${ROWS[@]}"
printf '\noutput %s MiB; remote store %s MB; cache server peak RSS %s MB\n' "$MIB" "$REMOTE_MB" "$SERVER_RSS"
printf 'server log at the 2GiB cap: %s\n' "${CAPPED_LOG:-no 413 logged}"
