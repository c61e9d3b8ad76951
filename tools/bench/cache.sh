#!/usr/bin/env bash
# Measures the remote cache: restoring a set of Nx task results from
# `nx-multiarch cache-server` against rebuilding them, in the same run, on
# fresh clones with empty local caches (what a CI machine sees), and the
# bytes the store keeps per entry.
#
#   bash tools/bench/cache.sh [options]
#
#   --storage oci|file   where the server keeps entries (default oci: a loopback
#                        docker-registry started here; file: a temp folder)
#   --projects N         projects of the generated workspace (default 4)
#   --trials N           rebuild/restore pairs, reported as medians (default 3)
#   --template DIR       benchmark this workspace instead of a generated one
#                        (copied without node_modules, dist, .nx, tmp)
#   --nx "ARGS"          the Nx command (default: run-many -t build)
#   --keep               keep the temp folders and print where they are
#
# The generated workspace: N Go programs, each cross-compiled for linux/arm64
# by an nx:run-commands target (-trimpath, no build id: same bytes on every
# machine), with a fresh GOCACHE per clone so a rebuild really compiles.
# Every restore is checked: every task must be a remote hit, and the restored
# outputs must equal the rebuilt ones byte for byte.
#
# Prints a summary; the figures also go to tmp/bench/cache-<time>.json.
set -euo pipefail
LOG_TAG=bench-cache
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

STORAGE=oci
PROJECTS=4
TRIALS=3
TEMPLATE=""
NX_ARGS="run-many -t build"
KEEP=false
while [ $# -gt 0 ]; do
  case "$1" in
    --storage) STORAGE=${2:?}; shift 2 ;;
    --projects) PROJECTS=${2:?}; shift 2 ;;
    --trials) TRIALS=${2:?}; shift 2 ;;
    --template) TEMPLATE=${2:?}; shift 2 ;;
    --nx) NX_ARGS=${2:?}; shift 2 ;;
    --keep) KEEP=true; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" "run bash tools/bench/cache.sh --help" ;;
  esac
done
[[ "$STORAGE" =~ ^(oci|file)$ ]] || die "--storage $STORAGE is not oci or file" "give --storage oci or --storage file"
[[ "$PROJECTS" =~ ^[1-9][0-9]*$ && "$PROJECTS" -le 50 ]] || die "--projects $PROJECTS is not 1 to 50" "give a small count, e.g. --projects 4"
[[ "$TRIALS" =~ ^[1-9][0-9]*$ && "$TRIALS" -le 10 ]] || die "--trials $TRIALS is not 1 to 10" "give e.g. --trials 3"
[ -z "$TEMPLATE" ] || [ -d "$TEMPLATE" ] || die "--template $TEMPLATE is not a folder" "give the root of an Nx workspace"
for tool in node curl jq; do command -v "$tool" >/dev/null || die "$tool not found" "install it (Debian package $tool)"; done
[ -n "$TEMPLATE" ] || command -v go >/dev/null || die "go not found" "install golang-go, or benchmark another workspace with --template"
[ "$STORAGE" = file ] || command -v docker-registry >/dev/null || die "docker-registry not found" "install Debian's docker-registry, or use --storage file"
[ -d "$REPO_ROOT/node_modules/nx" ] || die "nx is not installed in $REPO_ROOT" "run npm install (or bash tools/setup.sh) first"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-cache-XXXXXX")
SERVER_PID=""
REGISTRY_PORT=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  [ -z "$REGISTRY_PORT" ] || NX_MULTIARCH_STATE_DIR="$WORK/services" bash "$REPO_ROOT/tools/services.sh" stop registry "$REGISTRY_PORT" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  if $KEEP; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for_url URL SECONDS: until it answers 200.
wait_for_url() {
  local deadline=$(( $(date +%s) + $2 ))
  until curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# ------------------------------------------------------------ the store --
REGISTRY_HOST=""
REPOSITORY=nx-cache
# The one registry launcher (tools/services.sh), its state in this run's folder.
start_registry() {
  REGISTRY_PORT=$(free_port)
  REGISTRY_HOST=$(NX_MULTIARCH_STATE_DIR="$WORK/services" bash "$REPO_ROOT/tools/services.sh" start registry "$REGISTRY_PORT") ||
    die "the registry did not start" "see $WORK/services/registry-$REGISTRY_PORT/log"
}

if [ "$STORAGE" = oci ]; then
  start_registry
  STORAGE_URL="oci://$REGISTRY_HOST/$REPOSITORY"
else
  STORAGE_URL="file://$WORK/store"
fi

# ----------------------------------------------------------- the server --
log "building the plugin (npm run build:plugin)"
(cd "$REPO_ROOT" && npm run --silent build:plugin) || die "the plugin does not compile" "fix the TypeScript errors above"
NXM_BENCH_RW=$(node -e 'console.log("rw-"+require("crypto").randomBytes(24).toString("hex"))')
NXM_BENCH_RO=$(node -e 'console.log("ro-"+require("crypto").randomBytes(24).toString("hex"))')
export NXM_BENCH_RW NXM_BENCH_RO
node "$REPO_ROOT/packages/nx-multiarch/bin/nx-multiarch.js" cache-server --storage "$STORAGE_URL" --port 0 \
  --read-write-token-env NXM_BENCH_RW --read-only-token-env NXM_BENCH_RO >"$WORK/server.url" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/server.url" ] && break; sleep 0.1; done
SERVER_URL=$(head -n1 "$WORK/server.url")
[ -n "$SERVER_URL" ] || die "the cache server did not start" "see $WORK/server.log"
wait_for_url "$SERVER_URL/health" 15 || die "the cache server does not answer /health" "see $WORK/server.log"
log "cache server $SERVER_URL over $STORAGE_URL"

# ------------------------------------------------------- the workspace --
write_go_workspace() { # DIR
  local dir=$1 i name
  mkdir -p "$dir"
  printf '{ "name": "bench-cache", "version": "0.0.0", "private": true }\n' >"$dir/package.json"
  printf '{ "$schema": "./node_modules/nx/schemas/nx-schema.json" }\n' >"$dir/nx.json"
  printf 'module bench\n\ngo 1.19\n' >"$dir/go.mod"
  for i in $(seq 1 "$PROJECTS"); do
    name=p$i
    mkdir -p "$dir/libs/$name"
    cat >"$dir/libs/$name/main.go" <<EOF
// A small server, so the build compiles a real share of the standard library.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

const project = "$name"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"project": project, "path": r.URL.Path})
	})
	if err := http.ListenAndServe(os.Getenv("ADDR"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
EOF
    cat >"$dir/libs/$name/project.json" <<EOF
{
  "name": "$name",
  "root": "libs/$name",
  "targets": {
    "build": {
      "executor": "nx:run-commands",
      "cache": true,
      "inputs": ["{projectRoot}/**/*", "{workspaceRoot}/go.mod", { "runtime": "go version" }],
      "outputs": ["{workspaceRoot}/dist/$name"],
      "options": {
        "command": "mkdir -p dist/$name && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w -buildid=' -o dist/$name/server ./libs/$name"
      }
    }
  }
}
EOF
  done
}

TEMPLATE_DIR=$WORK/template
if [ -n "$TEMPLATE" ]; then
  mkdir -p "$TEMPLATE_DIR"
  (cd "$TEMPLATE" && tar --exclude=./node_modules --exclude=./dist --exclude=./.nx --exclude=./tmp --exclude=./.git -cf - .) | (cd "$TEMPLATE_DIR" && tar -xf -)
else
  write_go_workspace "$TEMPLATE_DIR"
fi

# clone NAME: a fresh copy with the workspace's node_modules linked in.
clone() {
  local dir=$WORK/clones/$1
  mkdir -p "$dir"
  cp -a "$TEMPLATE_DIR/." "$dir/"
  ln -s "$REPO_ROOT/node_modules" "$dir/node_modules"
  echo "$dir"
}

# nx_in DIR TOKEN [ENV=VALUE...]: one Nx run in a clone with its own local
# cache and Go cache; output to DIR.log; prints the wall time in ms.
nx_in() {
  local dir=$1 token=$2 start end status
  shift 2
  start=$(now_ms)
  # The clone's own caches: nothing carries over from this machine's other runs.
  # shellcheck disable=SC2086
  env $(env | grep -o '^NX_[A-Za-z_]*' | sed 's/^/-u /') \
    NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true \
    NX_CACHE_DIRECTORY="$dir.nx-cache" GOCACHE="$dir.go-cache" \
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER="$SERVER_URL" NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN="$token" "$@" \
    bash -c "cd '$dir' && node '$REPO_ROOT/node_modules/nx/dist/bin/nx.js' $NX_ARGS --outputStyle=stream" >"$dir.log" 2>&1 && status=0 || status=$?
  end=$(now_ms)
  [ "$status" -eq 0 ] || die "nx $NX_ARGS failed in $dir (exit $status)" "see $dir.log (kept: rerun with --keep)"
  echo $(( end - start ))
}

# outputs_digest DIR: one digest over every output file (path and bytes).
outputs_digest() {
  (cd "$1" && find dist -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

tasks_run() { grep -c '^> nx run ' "$1.log" || true; }
remote_hits() { grep -c '^> nx run .*\[remote cache\]' "$1.log" || true; }

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# ---------------------------------------------------------------- runs --
log "seeding the remote cache (clone seed, read-write token)"
SEED=$(clone seed)
SEED_MS=$(nx_in "$SEED" "$NXM_BENCH_RW")
TASKS=$(tasks_run "$SEED")
[ "$TASKS" -gt 0 ] || die "nx ran no task in the seed clone" "check --nx \"$NX_ARGS\" against the workspace"
SEED_DIGEST=$(outputs_digest "$SEED")
log "seed: $TASKS tasks in ${SEED_MS} ms"

REBUILD_TIMES=()
RESTORE_TIMES=()
for trial in $(seq 1 "$TRIALS"); do
  REBUILD=$(clone "rebuild-$trial")
  ms=$(nx_in "$REBUILD" "$NXM_BENCH_RO" NX_SKIP_REMOTE_CACHE=true)
  REBUILD_TIMES+=("$ms")
  [ "$(outputs_digest "$REBUILD")" = "$SEED_DIGEST" ] || die "rebuild $trial made different bytes than the seed" "the build is not reproducible; compare $REBUILD/dist with $SEED/dist (--keep)"

  RESTORE=$(clone "restore-$trial")
  ms=$(nx_in "$RESTORE" "$NXM_BENCH_RO")
  RESTORE_TIMES+=("$ms")
  hits=$(remote_hits "$RESTORE")
  [ "$hits" -eq "$TASKS" ] || die "restore $trial had $hits remote hits of $TASKS tasks" "see $RESTORE.log"
  [ "$(outputs_digest "$RESTORE")" = "$SEED_DIGEST" ] || die "restore $trial gave different bytes than the build" "see $RESTORE/dist (--keep)"
  log "trial $trial: rebuild ${REBUILD_TIMES[-1]} ms, restore ${RESTORE_TIMES[-1]} ms"
done
REBUILD_MEDIAN=$(printf '%s\n' "${REBUILD_TIMES[@]}" | median)
RESTORE_MEDIAN=$(printf '%s\n' "${RESTORE_TIMES[@]}" | median)
RATIO=$(awk -v a="$REBUILD_MEDIAN" -v b="$RESTORE_MEDIAN" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')

# ---------------------------------------------------------------- bytes --
OUTPUT_BYTES=$(du -sb --apparent-size "$SEED/dist" | cut -f1)
if [ "$STORAGE" = oci ]; then
  tags=$(curl -fsS "http://$REGISTRY_HOST/v2/$REPOSITORY/tags/list" | jq -r '.tags[]')
  ENTRY_SIZES=()
  MANIFEST_BYTES=0
  for tag in $tags; do
    manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REGISTRY_HOST/v2/$REPOSITORY/manifests/$tag")
    ENTRY_SIZES+=("$(jq -r '.layers[0].size' <<<"$manifest")")
    MANIFEST_BYTES=$(( MANIFEST_BYTES + ${#manifest} ))
  done
  STORE_DISK=$(du -sb "$WORK/registry/data" | cut -f1)
else
  ENTRY_SIZES=()
  for record in "$WORK"/store/entries/*; do ENTRY_SIZES+=("$(jq -r '.size' "$record")"); done
  MANIFEST_BYTES=$(cat "$WORK"/store/entries/* | wc -c)
  STORE_DISK=$(du -sb "$WORK/store" | cut -f1)
fi
ENTRIES=${#ENTRY_SIZES[@]}
[ "$ENTRIES" -eq "$TASKS" ] || log "note: the store holds $ENTRIES entries for $TASKS tasks"
ENTRY_TOTAL=$(printf '%s\n' "${ENTRY_SIZES[@]}" | awk '{ s += $1 } END { print s + 0 }')
ENTRY_MIN=$(printf '%s\n' "${ENTRY_SIZES[@]}" | sort -n | head -n1)
ENTRY_MAX=$(printf '%s\n' "${ENTRY_SIZES[@]}" | sort -n | tail -n1)
ENTRY_MEAN=$(( ENTRY_TOTAL / ENTRIES ))
PER_ENTRY_RECORD=$(( MANIFEST_BYTES / ENTRIES ))

# ---------------------------------------------------------------- report --
mkdir -p "$REPO_ROOT/tmp/bench"
REPORT="$REPO_ROOT/tmp/bench/cache-$(date -u +%Y%m%dT%H%M%SZ).json"
jq -n \
  --arg storage "$STORAGE" --arg nx "$NX_ARGS" --argjson tasks "$TASKS" --argjson trials "$TRIALS" \
  --argjson seed "$SEED_MS" --argjson rebuild "$REBUILD_MEDIAN" --argjson restore "$RESTORE_MEDIAN" --argjson ratio "$RATIO" \
  --argjson rebuilds "[$(IFS=,; echo "${REBUILD_TIMES[*]}")]" --argjson restores "[$(IFS=,; echo "${RESTORE_TIMES[*]}")]" \
  --argjson entries "$ENTRIES" --argjson entryMean "$ENTRY_MEAN" --argjson entryMin "$ENTRY_MIN" --argjson entryMax "$ENTRY_MAX" \
  --argjson recordMean "$PER_ENTRY_RECORD" --argjson outputs "$OUTPUT_BYTES" --argjson storeDisk "$STORE_DISK" \
  '{storage: $storage, nx: $nx, tasks: $tasks, trials: $trials,
    ms: {seed: $seed, rebuildMedian: $rebuild, restoreMedian: $restore, rebuilds: $rebuilds, restores: $restores},
    rebuildOverRestore: $ratio,
    bytes: {entries: $entries, entryMean: $entryMean, entryMin: $entryMin, entryMax: $entryMax,
            recordPerEntry: $recordMean, outputsUncompressed: $outputs, storeOnDisk: $storeDisk}}' >"$REPORT"

cat <<EOF
remote cache benchmark ($STORAGE storage, nx $NX_ARGS, $TASKS tasks, $TRIALS trials, fresh clones)
  seed build + upload      ${SEED_MS} ms
  rebuild (no cache)       median ${REBUILD_MEDIAN} ms   [${REBUILD_TIMES[*]}]
  restore (remote hits)    median ${RESTORE_MEDIAN} ms   [${RESTORE_TIMES[*]}]
  rebuild / restore        ${RATIO}x
  entries stored           $ENTRIES, blob mean $ENTRY_MEAN B (min $ENTRY_MIN, max $ENTRY_MAX)
  record per entry         $PER_ENTRY_RECORD B ($( [ "$STORAGE" = oci ] && echo manifest || echo 'entry record'))
  outputs, uncompressed    $OUTPUT_BYTES B for $TASKS tasks
  store on disk            $STORE_DISK B
  report                   ${REPORT#"$REPO_ROOT"/}
EOF
