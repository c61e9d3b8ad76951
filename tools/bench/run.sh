#!/usr/bin/env bash
# The benchmark suite: nx-multiarch against the RFC's strategy 1
# (tools/bench/baseline-strategy1.sh), same machine, same run, same sources,
# same loopback registry. One command:
#
#   bash tools/bench/run.sh [--only noop,proxy,controller,repush,fresh] [--out DIR] [--buildx] [--batch] [--daemon] [--isolate-plugins]
#
# Scenarios (plugin: `nx run-many -t manifest-push --exclude=nx-multiarch-cache-server --registry=…`,
# the 5 Linkerd images x 3 arches):
#   cold        empty Nx cache, empty GOCACHE and cargo target: build and push everything
#               (always runs: every other scenario starts from it)
#   noop        the same command again, nothing changed
#   proxy       one code line changed in linkerd2-proxy, build and push
#   controller  one code line changed in linkerd2-controller, build and push
#   repush      push alone, images unchanged (plugin: --excludeTaskDependencies)
#   fresh       a second clone with an empty local cache and a warm remote cache
#               (nx-multiarch cache-server, file storage, filled by the cold run)
# plus the compiler floor: CPU seconds of the raw compiles alone (the baseline's
# compile phase of the cold run).
#
# --buildx adds the second baseline in the same run, after the first:
# tools/bench/baseline-buildx.sh (`docker buildx build --platform` over the
# multi-stage Dockerfiles, BuildKit built from the Go module proxy, its registry
# cache), with its cold, noop, proxy, controller and fresh (a new builder with
# the registry cache) scenarios as a third column. Needs root; its tools are
# built once into tmp/buildx-bench (a few minutes the first time).
#
# --batch runs every plugin command with Nx's --batch (the push tasks of a
# run as batches in one process each, instead of one process per task; see
# README "Batched pushes").
#
# --daemon runs every plugin command with the Nx daemon on, as on a
# developer's machine (Nx's default outside CI): the project graph stays warm
# in the daemon between commands. It is started by the cold run (its start is
# in that figure) and stopped at the end. Without it, NX_DAEMON=false, as on CI.
#
# --isolate-plugins runs Nx's project-graph plugins in worker processes, Nx's
# default. Without it every plugin command has NX_ISOLATE_PLUGINS=false, as
# the CI workflows the ci-workflow generator writes and tools/main-job.sh set
# it (README, CI: "Plugins in Nx's own process").
#
# Writes DIR/results.md, DIR/results.json, DIR/logs/ and DIR/report/ (the
# plugin's build report of clone A at the end, with the timings of the runs
# that built each image). DIR defaults to tmp/bench. Everything
# runs in a temp folder (git clones of this checkout; the checkout's sources are
# never touched) with its own registry, dockerd and cache server, all stopped at
# the end. Nx: NX_DAEMON=false (unless --daemon), its own NX_CACHE_DIRECTORY.
set -euo pipefail
LOG_TAG=bench
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-edits.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-edits.sh"
# shellcheck source=../lib/workspace-clone.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/workspace-clone.sh"

only=noop,proxy,controller,repush,fresh
out="$REPO_ROOT/tmp/bench"
with_buildx=false
plugin_batch=()
nx_daemon=false
isolate_plugins=false
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=${2:?--only needs a list}; shift ;;
    --only=*) only=${1#--only=} ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --out=*) out=${1#--out=} ;;
    --buildx) with_buildx=true ;;
    --batch) plugin_batch=(--batch) ;;
    --daemon) nx_daemon=true ;;
    --isolate-plugins) isolate_plugins=true ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "usage: bash tools/bench/run.sh [--only noop,proxy,controller,repush,fresh] [--out DIR] [--buildx] [--batch] [--daemon] [--isolate-plugins]" ;;
  esac
  shift
done
for s in ${only//,/ }; do
  case "$s" in cold|noop|proxy|controller|repush|fresh) ;; *) die "unknown scenario $s" "choose from cold, noop, proxy, controller, repush, fresh" ;; esac
done
selected() { [[ ",$only," == *",$1,"* ]]; }
for tool in git go /usr/bin/cargo docker-registry dockerd jq; do
  command -v "$tool" >/dev/null || die "$tool not found" "run bash tools/setup.sh"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
mkdir -p "$out/logs"
rm -f "$out/logs/"*.log
times="$work/times.tsv"
: >"$times"
reg_port=$(free_port)
cache_pid=''
cleanup() {
  # The daemons this run started (--daemon), one per clone.
  if $nx_daemon; then
    for clone in "$work/a/workspace" "$work/b/workspace"; do
      [ -d "$clone" ] && (cd "$clone" && NX_DAEMON=true node "$REPO_ROOT/node_modules/nx/dist/bin/nx.js" daemon --stop >/dev/null 2>&1) || true
    done
  fi
  if [ -n "$cache_pid" ]; then kill "$cache_pid" 2>/dev/null || true; fi
  bash "$REPO_ROOT/tools/services.sh" stop dockerd >/dev/null 2>&1 || true
  bash "$REPO_ROOT/tools/services.sh" stop registry "$reg_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# measure NAME COMMAND...: runs it (output to logs/NAME.log), appends "NAME wall cpu" (or "failed") to $times.
measure() {
  local name=$1 t
  shift
  log "$name"
  # A failed step is recorded as failed and the suite goes on: the other scenarios still mean something.
  if ! t=$( { TIMEFORMAT='%R %U %S'; time "$@" >>"$out/logs/$name.log" 2>&1; } 2>&1 ); then
    log "$name FAILED: see $out/logs/$name.log"
    printf '%s\tfailed\tfailed\n' "$name" >>"$times"
    return 0
  fi
  read -r wall user sys <<<"$t"
  printf '%s\t%s\t%s\n' "$name" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" >>"$times"
}


log "compiling and packing the plugin: the clones install it as users do (compiled JavaScript, no swc)"
(cd "$REPO_ROOT" && npm run --silent build:plugin)
(cd "$REPO_ROOT/packages/nx-multiarch" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/nx-multiarch-*.tgz)
log "services: registry, dockerd, cache server (all on loopback, in $work)"
bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null
export DOCKER_HOST
DOCKER_HOST=$(bash "$REPO_ROOT/tools/services.sh" start dockerd)
REG="127.0.0.1:$reg_port"
cache_port=$(free_port)
export BENCH_CACHE_TOKEN
BENCH_CACHE_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
node "$REPO_ROOT/packages/nx-multiarch/bin/nx-multiarch.js" cache-server --storage "file://$work/remote-cache" \
  --port "$cache_port" --read-write-token-env BENCH_CACHE_TOKEN >"$out/logs/cache-server.log" 2>&1 &
cache_pid=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$cache_port/health" 2>/dev/null && break; sleep 0.2; done

A="$work/a/workspace"
B="$work/b/workspace"
clone_with_compiled_plugin "$A" "$tarball"

# The plugin: one command builds and pushes the matrix. Every Nx run gets only these NX_* settings.
plugin() { # CLONE CACHE_NAME NX_ARGS...
  local dir=$1 cache=$2
  shift 2
  (cd "$dir" && env -u NX_SELF_HOSTED_REMOTE_CACHE_SERVER -u NX_SKIP_REMOTE_CACHE \
    NX_DAEMON=$nx_daemon NX_ISOLATE_PLUGINS=$isolate_plugins NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache-$cache" \
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER="http://127.0.0.1:$cache_port" NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN="$BENCH_CACHE_TOKEN" \
    GOCACHE="$work/gocache-$cache" \
    node "$REPO_ROOT/node_modules/nx/dist/bin/nx.js" "$@" --outputStyle=static)
}
# The five Linkerd images the baseline builds: the workspace's sixth (the cache server's own
# image, with the plugin's TypeScript build before it) has no counterpart in strategy 1.
plugin_push() { plugin "$1" "$2" run-many -t manifest-push --exclude=nx-multiarch-cache-server "--registry=$REG/plugin" ${plugin_batch[@]+"${plugin_batch[@]}"} "${@:3}"; }
baseline() { bash "$REPO_ROOT/tools/bench/baseline-strategy1.sh" --workspace "$A" --registry "$REG/baseline" --work "$work/baseline" --tag bench "$@"; }
save_run() { cp "$work/nx-cache-$1/run.json" "$work/run-$2.json"; }

# --- cold (always) -----------------------------------------------------------
measure plugin-cold plugin_push "$A" a
save_run a cold
measure baseline-cold-compile baseline --phase compile
measure baseline-cold-images baseline --phase images
measure baseline-cold-push baseline --phase push

if selected noop; then
  measure plugin-noop plugin_push "$A" a
  measure baseline-noop baseline --phase all
fi
if selected proxy; then
  edit_proxy_line "$A"
  measure plugin-proxy plugin_push "$A" a
  save_run a proxy
  measure baseline-proxy baseline --phase all
fi
if selected controller; then
  edit_controller_line "$A"
  measure plugin-controller plugin_push "$A" a
  save_run a controller
  measure baseline-controller baseline --phase all
fi
if selected repush; then
  measure plugin-repush plugin_push "$A" a --excludeTaskDependencies
  measure baseline-repush baseline --phase push
fi
if selected fresh; then
  # From clone A, so B holds the very commit A's cold run cached (this checkout may have moved on since).
  clone_with_compiled_plugin "$B" "$tarball" "$A"
  measure plugin-fresh plugin_push "$B" b
  save_run b fresh
fi

if $with_buildx; then
  # Its own registry, builder and clone of this checkout's HEAD (the commit clone A holds); every image
  # and scenario, whatever --only says, since its builder's state carries from one scenario to the next.
  if bash "$REPO_ROOT/tools/bench/baseline-buildx.sh" --out "$out/buildx" >"$out/logs/baseline-buildx.log" 2>&1; then
    # Its per-scenario totals as this suite's steps: wall, and CPU of the client plus buildkitd and all it ran.
    awk -F'\t' '$2 == "all" { printf "buildx-%s\t%s\t%.2f\n", $1, $4, $5 + $6 }' "$out/buildx/results.tsv" >>"$times"
  else
    log "baseline-buildx FAILED: see $out/logs/baseline-buildx.log"
    printf 'buildx-cold\tfailed\tfailed\n' >>"$times"
  fi
fi

log "the plugin's build report of clone A (images as they end; timings of the runs that built them)"
runs=()
for run in cold proxy controller; do [ -f "$work/run-$run.json" ] && runs+=(--run "$work/run-$run.json"); done
node "$REPO_ROOT/packages/nx-multiarch/bin/nx-multiarch.js" report --workspace "$A" "${runs[@]}" --out "$out/report" >>"$out/logs/report.log" 2>&1 ||
  log "report failed: see $out/logs/report.log"
cp "$work"/run-*.json "$out/logs/" 2>/dev/null || true

daemon_note=''
if $nx_daemon; then daemon_note=', plugin with the Nx daemon'; fi
isolation_note=', Nx plugins in its own process (NX_ISOLATE_PLUGINS=false)'
if $isolate_plugins; then isolation_note=', Nx plugins in worker processes (Nx default)'; fi
node "$REPO_ROOT/tools/bench/render-results.js" "$times" "$out" \
  "$(nproc) cores, $(go version | awk '{print $3}'), $(/usr/bin/cargo -V | awk '{print $1" "$2}'), docker $(/usr/bin/docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')${plugin_batch[0]:+, plugin with --batch}${daemon_note}${isolation_note}"
log "wrote $out/results.md and $out/results.json"
cat "$out/results.md"
for run in cold fresh; do
  [ -f "$work/run-$run.json" ] || continue
  log "$run: $(jq -r '[.tasks[].cacheStatus] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$work/run-$run.json")"
done
if grep -q $'\tfailed' "$times"; then
  die "some steps failed: $(grep $'\tfailed' "$times" | cut -f1 | tr '\n' ' ')" "see their logs in $out/logs/"
fi
