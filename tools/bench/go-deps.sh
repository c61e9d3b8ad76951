#!/usr/bin/env bash
# Measures Go cross builds with real dependencies (the controller: cobra-free,
# but prometheus client_golang with protobuf, procfs, x/sys).
#
#   bash tools/bench/go-deps.sh [RUNS] [ARCHES]    (defaults: 1 "amd64 arm64 arm")
#
# 1. Module fetch: `go mod download` of packages/linkerd2 and of
#    packages/linkerd2-proxy-init into an empty module cache (GOMODCACHE), through
#    the GOPROXY `go env` names.
# 2. Per arch, the controller cold (empty GOCACHE) and warm (GOCACHE kept,
#    nothing changed), the raw `go build` with the executor's flags against
#    the go-cross executor (node, no Nx), taking turns round by round. The
#    module cache is filled, so neither fetches.
# 3. The cold Go matrix: `nx run-many` of every go-cross variant (5 binaries x
#    the arches, 3 tasks side by side) with empty module, build and Nx
#    caches, and how much of it was the one module fetch (the executor logs it).
#
# Prints a table; nothing outside dist/cross/, .nx-multiarch/ and a temp folder is touched.
set -euo pipefail
LOG_TAG=bench-go-deps
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
RUNS=${1:-1}
ARCHES=${2:-"amd64 arm64 arm"}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$RUNS'" "usage: bash tools/bench/go-deps.sh [RUNS] [ARCHES]"
command -v hyperfine >/dev/null || die "hyperfine is not installed" "apt-get install hyperfine"
command -v jq >/dev/null || die "jq is not installed" "apt-get install jq"
command -v go >/dev/null || die "go is not on PATH" "install Go 1.21 or newer"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-bench-go.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$WORK/nx-cache"
unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
# -modcacherw: the temporary module caches stay removable.
export GOFLAGS="-modcacherw -buildvcs=false"
MODCACHE="$WORK/gomodcache"
GOCACHE_DIR="$WORK/gocache"

cd "$REPO_ROOT"
log "building the plugin (the executor runner below loads dist/)"
npm run --silent build:plugin
log "$(go version); GOPROXY from go env; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# One executor as Nx would run it, minus Nx (tools/bench/run-executor.ts).
run_executor="node -r $REPO_ROOT/node_modules/@swc-node/register $REPO_ROOT/tools/bench/run-executor.ts"

mean_of() { jq -rs '[.[].results[]] | group_by(.command)[] | [.[0].command, (map(.mean) | add / length), (map(.user + .system) | add / length)] | @tsv' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ------------------------------------------------------------ module fetch --
log "module fetch into an empty GOMODCACHE, $RUNS runs"
hyperfine --style none --runs "$RUNS" --prepare "rm -rf $MODCACHE" --export-json "$WORK/fetch.json" \
  -n fetch-linkerd2 "cd packages/linkerd2 && GOMODCACHE=$MODCACHE go mod download" >/dev/null
hyperfine --style none --runs "$RUNS" --prepare "rm -rf $MODCACHE" --export-json "$WORK/fetch2.json" \
  -n fetch-all-go "cd packages/linkerd2 && GOMODCACHE=$MODCACHE go mod download && cd ../linkerd2-proxy-init && GOMODCACHE=$MODCACHE go mod download" >/dev/null
MODULES=$(cd packages/linkerd2 && GOMODCACHE=$MODCACHE go list -m all | wc -l)
MODBYTES=$(du -sk "$MODCACHE/cache/download" | cut -f1)

# --------------------------------------------------- controller per arch --
for arch in $ARCHES; do
  case "$arch" in
    amd64) GOENV="GOARCH=amd64" ;;
    arm64) GOENV="GOARCH=arm64" ;;
    arm)   GOENV="GOARCH=arm GOARM=7" ;;
    *) die "unsupported arch '$arch'" "use amd64, arm64 or arm" ;;
  esac
  RAW="cd packages/linkerd2 && env GOMODCACHE=$MODCACHE GOCACHE=$GOCACHE_DIR GOPROXY=off CGO_ENABLED=0 GOOS=linux $GOENV \
go build -trimpath -buildvcs=false -ldflags '-s -w -buildid= -X main.version=dev' -o $WORK/controller ./controller"
  EXEC="env GOMODCACHE=$MODCACHE GOCACHE=$GOCACHE_DIR $run_executor $REPO_ROOT go-cross linkerd2-controller packages/linkerd2/controller go-cross $arch"
  for round in $(seq 1 "$RUNS"); do
    log "controller $arch cold, round $round/$RUNS"
    hyperfine --style none --runs 1 --prepare "rm -rf $GOCACHE_DIR" --export-json "$WORK/cold-$arch-$round.json" \
      -n "raw-$arch" "$RAW" -n "exec-$arch" "$EXEC" >/dev/null
  done
  log "controller $arch warm, $RUNS runs"
  hyperfine --style none --runs "$RUNS" --warmup 1 --export-json "$WORK/warm-$arch.json" -n "raw-$arch" "$RAW" -n "exec-$arch" "$EXEC" >/dev/null
done

# ------------------------------------------------------------- cold matrix --
TARGETS=$(for arch in $ARCHES; do printf 'go-cross--%s,' "$arch"; done); TARGETS=${TARGETS%,}
log "cold Go matrix: nx run-many -t $TARGETS (empty module, build and Nx caches)"
rm -rf "$MODCACHE" "$GOCACHE_DIR" "$NX_CACHE_DIRECTORY"
start=$(date +%s.%N)
GOMODCACHE=$MODCACHE GOCACHE=$GOCACHE_DIR npx nx run-many -t "$TARGETS" --parallel=3 --outputStyle=stream >"$WORK/matrix.log" 2>&1 ||
  { tail -40 "$WORK/matrix.log"; die "the cold Go matrix failed" "see the log above"; }
MATRIX=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
TASKS=$(grep -c 'go-cross: go1' "$WORK/matrix.log" || true)
FETCHED=$(grep -o 'fetched in [0-9.]* s' "$WORK/matrix.log" | awk '{ s += $3 } END { printf "%.1f", s }')
FETCHES=$(grep -c 'go mod download through GOPROXY' "$WORK/matrix.log" || true)

# ------------------------------------------------------------------ report --
printf '\nGo with real dependencies, %s run(s), %s\n\n' "$RUNS" "$(go env GOVERSION)"
printf '| what | seconds (wall) | CPU s |\n| --- | ---: | ---: |\n'
while IFS=$'\t' read -r name mean cpu; do printf '| %s (%s modules, %s KiB) | %.2f | %.2f |\n' "$name" "$MODULES" "$MODBYTES" "$mean" "$cpu"; done < <(mean_of "$WORK"/fetch.json "$WORK"/fetch2.json)
printf '\n| controller (wall s / CPU s) | raw go build cold | go-cross cold | ratio (CPU) | raw warm | go-cross warm | ratio (CPU) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for arch in $ARCHES; do
  declare -A C W CC WC
  while IFS=$'\t' read -r name mean cpu; do C[$name]=$mean; CC[$name]=$cpu; done < <(mean_of "$WORK"/cold-"$arch"-*.json)
  while IFS=$'\t' read -r name mean cpu; do W[$name]=$mean; WC[$name]=$cpu; done < <(mean_of "$WORK/warm-$arch.json")
  printf '| %s | %.2f / %.2f | %.2f / %.2f | %s (%s) | %.2f / %.2f | %.2f / %.2f | %s (%s) |\n' "$arch" \
    "${C[raw-$arch]}" "${CC[raw-$arch]}" "${C[exec-$arch]}" "${CC[exec-$arch]}" \
    "$(ratio "${C[exec-$arch]}" "${C[raw-$arch]}")" "$(ratio "${CC[exec-$arch]}" "${CC[raw-$arch]}")" \
    "${W[raw-$arch]}" "${WC[raw-$arch]}" "${W[exec-$arch]}" "${WC[exec-$arch]}" \
    "$(ratio "${W[exec-$arch]}" "${W[raw-$arch]}")" "$(ratio "${WC[exec-$arch]}" "${WC[raw-$arch]}")"
  unset C W CC WC
done
printf '\nCold Go matrix (%s go-cross tasks, 3 side by side): %s s wall; module fetches: %s (%s s of fetching, %s%% of the matrix)\n' \
  "$TASKS" "$MATRIX" "$FETCHES" "$FETCHED" "$(awk -v f="$FETCHED" -v m="$MATRIX" 'BEGIN { printf "%.1f", 100 * f / m }')"
