#!/usr/bin/env bash
# Where the time of the main job goes: a cold run and a no-op run of
#   nx run-many -t manifest-push --registry=<loopback registry>
# (5 images x 3 arches, remote cache on, as tools/bench/run.sh runs it), every
# Node process under `node --cpu-prof`, broken down per task kind into process
# start, plugin module load, hashing, compile, compress, cache write and upload.
# (node refuses --cpu-prof in NODE_OPTIONS, so tools/bench/cpu-prof-preload.js,
# given with --require, runs V8's profiler in each process.)
#
#   bash tools/bench/profile.sh [--out DIR] [--only cold|noop]   (DIR defaults to tmp/profile)
#
# Sources of the figures:
#   - Nx's own record of the run (<cache>/run.json): each task's start and end;
#   - one V8 CPU profile per Node process (cpu-prof-preload.js): the Nx
#     process itself and every task process it forks; their clocks are the
#     monotonic clock, read with the wall clock at the start of each process,
#     so each profile is placed on Nx's task timeline;
#   - tools/bench/profile-report.ts buckets each profile's samples by the code
#     they are in (see its header) and writes DIR/profile.md.
# CPU profiling itself costs some time (about 5 to 10 %): read the shares, not
# the absolute seconds, and compare runs of this same script.
#
# Runs in a git clone of this checkout in a temp folder with its own registry,
# cache server, Nx cache, GOCACHE and cargo target folder; the checkout is not touched.
set -euo pipefail
LOG_TAG=bench-profile
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

out="$REPO_ROOT/tmp/profile"
only=cold,noop
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift ;;
    --out=*) out=${1#--out=} ;;
    --only) only=${2:?--only needs cold or noop}; shift ;;
    --only=*) only=${1#--only=} ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/profile.sh [--out DIR] [--only cold|noop]" ;;
  esac
  shift
done
for tool in git go /usr/bin/cargo docker-registry; do
  command -v "$tool" >/dev/null || die "$tool not found" "run bash tools/setup.sh"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-profile.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
reg_port=$(free_port)
cache_pid=''
cleanup() {
  if [ -n "$cache_pid" ]; then kill "$cache_pid" 2>/dev/null || true; fi
  bash "$REPO_ROOT/tools/services.sh" stop registry "$reg_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$out"
mkdir -p "$out"

log "compiling the plugin (executors run from its dist/)"
(cd "$REPO_ROOT" && npm run --silent build:plugin)
bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null
cache_port=$(free_port)
export BENCH_CACHE_TOKEN
BENCH_CACHE_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
node "$REPO_ROOT/packages/nx-multiarch/bin/nx-multiarch.js" cache-server --storage "file://$work/remote-cache" \
  --port "$cache_port" --read-write-token-env BENCH_CACHE_TOKEN >"$out/cache-server.log" 2>&1 &
cache_pid=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$cache_port/health" 2>/dev/null && break; sleep 0.2; done

ws="$work/workspace"
clone_workspace "$ws"

# run NAME: the main job with every Node process profiled into DIR/NAME/.
run() {
  local name=$1 dir="$out/$1"
  mkdir -p "$dir/cpuprofiles"
  log "$name run (log: $dir/nx.log)"
  local t0=$SECONDS rc=0 seen
  seen=$(wc -l <"$out/cache-server.log")
  (cd "$ws" && env -u NX_SELF_HOSTED_REMOTE_CACHE_SERVER -u NX_SKIP_REMOTE_CACHE \
    NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache" \
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER="http://127.0.0.1:$cache_port" NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN="$BENCH_CACHE_TOKEN" \
    GOCACHE="$work/gocache" NXM_CPU_PROF_DIR="$dir/cpuprofiles" NODE_OPTIONS="--require $REPO_ROOT/tools/bench/cpu-prof-preload.js" \
    nice -n 10 node "$REPO_ROOT/node_modules/nx/dist/bin/nx.js" run-many -t manifest-push "--registry=127.0.0.1:$reg_port/profile" --outputStyle=static) \
    >"$dir/nx.log" 2>&1 || rc=$?
  echo "$((SECONDS - t0))" >"$dir/wall-seconds"
  # The remote cache upload runs in Nx's Rust code, out of sight of the CPU profiles: the cache server's log times it.
  tail -n +"$((seen + 1))" "$out/cache-server.log" >"$dir/cache-server.log"
  [ "$rc" = 0 ] || die "the $name run failed (exit $rc)" "see $dir/nx.log"
  cp "$work/nx-cache/run.json" "$dir/run.json"
}

[[ ",$only," == *,cold,* || ",$only," == *,noop,* ]] || die "nothing to run" "--only cold, noop or cold,noop"
# The no-op run needs the cold one before it (always run; profiled only when asked).
run cold
[[ ",$only," == *,noop,* ]] && run noop
log "analysing the CPU profiles"
node -r "$REPO_ROOT/node_modules/@swc-node/register" "$REPO_ROOT/tools/bench/profile-report.ts" "$out" | tee "$out/profile.md"
