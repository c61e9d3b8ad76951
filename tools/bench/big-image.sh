#!/usr/bin/env bash
# The proof at size (issue 20): an image with a 3 GiB layer over a base image
# with a 1 GiB layer is built, pushed to a loopback registry, built again
# through Nx (cached), restored from the Nx cache and unpacked by the qemu
# runner's unpacker, each process under a hard address-space cap (ulimit -v)
# with Node's heap capped, its peak RSS measured by /usr/bin/time -v. Fails
# when any plugin process peaks at 300 MB or more, or any step fails.
#
#   bash tools/bench/big-image.sh [--compare]
#
# --compare also runs real tools on the same 3 GiB layer in the same run:
# `tar | gzip -6` and `umoci insert` (layer write), and `skopeo copy` of the
# plugin's layout to the same registry (push, beside a second push by the
# plugin), with their throughput and memory; and the build as a user runs it,
# `nx run` of the docker-arch-build executor, twice (the first time Nx hashes
# the new 3 GiB file itself), checking that its layer is the step's.
#
# Content: each MiB is 64 KiB of random bytes then zeros, written to a real
# file, so every byte goes through the path a real file takes (read, tar,
# gzip, hash, disk) while the blobs stay a few hundred MB. Needs about 12 GB
# free under ${TMPDIR:-/tmp}; everything is removed at the end.
set -euo pipefail
LOG_TAG=big-image
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/proof-content.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/proof-content.sh"
# shellcheck source=../lib/bench-step.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-step.sh"

COMPARE=false
case "${1:-}" in
  --compare) COMPARE=true ;;
  "") ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "unknown argument: $1" "usage: bash tools/bench/big-image.sh [--compare]" ;;
esac

LIMIT_MB=300
# Address space per process: Node reserves far more than it touches, so the cap is on RSS (measured) and this is the hard stop.
VMEM_KB=${NX_MULTIARCH_BIG_VMEM_KB:-1500000}
# glibc reserves a 64 MiB malloc arena per thread (up to 8 per core); reserved, never touched, but
# counted by ulimit -v, so a capped Node with its worker threads can fail to start a thread at random.
# Two arenas keep the cap about memory in use, which is what it is there to bound.
export MALLOC_ARENA_MAX=2
HEAP_MB=128
BIG_MIB=${NX_MULTIARCH_BIG_MIB:-3072}
BASE_MIB=${NX_MULTIARCH_BIG_BASE_MIB:-1024}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-big-image.XXXXXX")
PORT=$(free_port)
export NX_MULTIARCH_STATE_DIR="$WORK/services"
cleanup() {
  bash "$REPO_ROOT/tools/services.sh" stop registry "$PORT" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$REPO_ROOT"
npm run --silent build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"
REGISTRY=$(bash tools/services.sh start registry "$PORT")
# The step compiled once (tools/lib/bench-step.sh), so each starts as a compiled executor does.
STEP_DIR="$REPO_ROOT/tmp/big-image-step"
compile_bench_steps "$STEP_DIR" big-image-step
UNCAPPED_STEP=(node "$STEP_DIR/big-image-step.js")
STEP=(node --max-old-space-size=$HEAP_MB "$STEP_DIR/big-image-step.js")

FAILED=0
ROWS=()
# measure NAME BYTES CAPPED CMD...: runs CMD under /usr/bin/time -v (and ulimit -v when CAPPED=yes), records seconds, MB/s of BYTES and peak RSS.
measure() {
  local name=$1 bytes=$2 capped=$3
  shift 3
  local out="$WORK/time-${name// /-}.txt" start end status=0
  start=$(date +%s.%N)
  if [ "$capped" = yes ]; then
    (ulimit -v "$VMEM_KB"; /usr/bin/time -v -o "$out" "$@") >"$WORK/out.txt" 2>&1 || status=$?
  else
    /usr/bin/time -v -o "$out" "$@" >"$WORK/out.txt" 2>&1 || status=$?
  fi
  end=$(date +%s.%N)
  if [ "$status" -ne 0 ]; then
    tail -n 20 "$WORK/out.txt" >&2
    die "$name failed (exit $status)" "see the output above"
  fi
  local rss_kb secs
  rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out")
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  ROWS+=("$(awk -v n="$name" -v s="$secs" -v by="$bytes" -v r="$rss_kb" -v c="$capped" \
    'BEGIN { printf "| %s | %s | %s | %.0f | %s |\n", n, s, (by > 0 ? sprintf("%.0f", by / 1e6 / s) : "-"), r / 1024, (c == "yes" ? "yes" : "no") }')")
  log "$name: ${secs}s, peak RSS $((rss_kb / 1024)) MB$(tail -n 1 "$WORK/out.txt" | sed 's/^/; /')"
  if [ "$capped" = yes ] && [ $((rss_kb / 1024)) -ge $LIMIT_MB ]; then
    log "FAIL: $name peaked at $((rss_kb / 1024)) MB (limit $LIMIT_MB MB)"
    FAILED=1
  fi
}

mkdir -p "$WORK/base-ctx" "$WORK/app-ctx" "$WORK/blobs"
log "generating ${BASE_MIB} MiB and ${BIG_MIB} MiB input files"
write_proof_content "$WORK/base-ctx/base.bin" "$BASE_MIB"
write_proof_content "$WORK/app-ctx/big.bin" "$BIG_MIB"
BIG_BYTES=$((BIG_MIB * 1024 * 1024))
BASE_BYTES=$((BASE_MIB * 1024 * 1024))
printf 'FROM scratch\nCOPY base.bin /data/base.bin\n' >"$WORK/base-ctx/Dockerfile"
printf 'FROM oci-layout://%s\nCOPY big.bin /data/big.bin\n' "$WORK/base-layout" >"$WORK/app-ctx/Dockerfile"

measure "build base (${BASE_MIB} MiB layer)" "$BASE_BYTES" yes "${STEP[@]}" build "$WORK/base-ctx" "$WORK/base-layout" "$WORK/blobs"
measure "build app (${BIG_MIB} MiB layer over the base)" "$BIG_BYTES" yes "${STEP[@]}" build "$WORK/app-ctx" "$WORK/app-layout" "$WORK/blobs"
APP_BLOBS=$(du -sb "$WORK/app-layout/blobs" | cut -f1)
measure "push app (all blobs)" "$APP_BLOBS" yes "${STEP[@]}" push "$WORK/app-layout" "$REGISTRY" big/app
measure "unpack app (both layers)" "$((BIG_BYTES + BASE_BYTES))" yes "${STEP[@]}" unpack "$WORK/app-layout" "$WORK/root"
[ "$(stat -c %s "$WORK/root/data/big.bin")" = "$BIG_BYTES" ] && cmp -s "$WORK/root/data/big.bin" "$WORK/app-ctx/big.bin" ||
  die "the unpacked big.bin differs from the input" "the layer lost or changed bytes"
rm -rf "$WORK/root"

# Through Nx: a workspace of one project whose cached target builds the image into its outputs.
NXWS="$WORK/nx"
mkdir -p "$NXWS/app"
ln -s "$REPO_ROOT/node_modules" "$NXWS/node_modules"
printf '{ "name": "big-image-nx", "private": true }\n' >"$NXWS/package.json"
printf '{ "cacheDirectory": ".nx/cache", "neverConnectToCloud": true }\n' >"$NXWS/nx.json"
cat >"$NXWS/app/project.json" <<JSON
{ "name": "app", "targets": { "image": {
  "executor": "nx:run-commands", "cache": true, "outputs": ["{projectRoot}/dist"], "inputs": [],
  "options": { "command": "${STEP[*]} build $WORK/app-ctx app/dist/layout $WORK/blobs" } } } }
JSON
NX=(env NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx --no-install nx run app:image --outputStyle=static)
measure "nx: build and store in the local cache" "$APP_BLOBS" no bash -c "cd '$NXWS' && ${NX[*]}"
CACHE_BYTES=$(du -sb "$NXWS/.nx/cache" | cut -f1)
rm -rf "$NXWS/app/dist"
measure "nx: restore from the local cache" "$APP_BLOBS" no bash -c "cd '$NXWS' && ${NX[*]}"
measure "unpack the restored image" "$((BIG_BYTES + BASE_BYTES))" yes "${STEP[@]}" unpack "$NXWS/app/dist/layout" "$WORK/root"
rm -rf "$WORK/root" "$NXWS/.nx"

if $COMPARE; then
  command -v umoci >/dev/null && command -v skopeo >/dev/null || die "umoci and skopeo are needed for --compare" "run bash tools/setup.sh"
  # The same build with Node's default heap (no cap), as the real tools run. Under the 128 MB heap cap, V8
  # collects each time about 64 MB of buffers (file chunks, zlib's state and output, all outside the heap)
  # has come and gone: many more full collections.
  measure "build app, uncapped step" "$BIG_BYTES" no "${UNCAPPED_STEP[@]}" build "$WORK/app-ctx" "$WORK/app-layout-uncapped" "$WORK/blobs"
  cmp -s "$WORK/app-layout/index.json" "$WORK/app-layout-uncapped/index.json" || die "the uncapped build gave another image" "the layer write is not deterministic: compare the two layouts"
  rm -rf "$WORK/app-layout-uncapped"
  # The same build as a user runs it: the docker-arch-build executor in an Nx task process (Nx's own start included).
  mkdir -p "$NXWS/big"
  ln "$WORK/app-ctx/big.bin" "$NXWS/big/big.bin"
  cp "$WORK/app-ctx/Dockerfile" "$NXWS/big/Dockerfile"
  cat >"$NXWS/big/project.json" <<JSON
{ "name": "big", "targets": { "image": { "executor": "nx-multiarch:docker-arch-build", "cache": false,
  "options": { "arch": "amd64", "dockerfile": "big/Dockerfile", "context": "big", "attestations": false, "sourceDateEpoch": 1700000000 } } } }
JSON
  # Peak RSS in the table is that of Nx's largest process; the task's own process (run-executor.js) is logged
  # apart. The first run is the first time Nx sees the 3 GiB file, so Nx hashes it; the second knows its hash.
  RSS_LOG="$WORK/peak-rss.log"
  NX_EXECUTOR="cd '$NXWS' && NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NODE_OPTIONS='--require $REPO_ROOT/tools/bench/peak-rss-preload.js' NXM_PEAK_RSS_LOG='$RSS_LOG' npx --no-install nx run big:image --outputStyle=static"
  task_rss() { awk '$2 == "run-executor.js" { mb = $3 } END { print mb }' "$RSS_LOG"; }
  measure "build app, nx run of the docker-arch-build executor (Nx hashes the new file)" "$BIG_BYTES" no bash -c "$NX_EXECUTOR"
  log "the task's process peaked at $(task_rss) MB"
  rm -rf "$NXWS/dist" "$RSS_LOG"
  measure "build app, nx run of the docker-arch-build executor (file hash known)" "$BIG_BYTES" no bash -c "$NX_EXECUTOR"
  log "the task's process peaked at $(task_rss) MB"
  # The executor's image has its own labels, so another config and manifest, but the very same big layer.
  BIG_LAYER=$(node -e 'const fs = require("fs"), dir = process.argv[1], blob = (d) => JSON.parse(fs.readFileSync(`${dir}/blobs/sha256/${d.slice(7)}`, "utf8"));
    const layers = blob(JSON.parse(fs.readFileSync(`${dir}/index.json`, "utf8")).manifests[0].digest).layers; console.log(layers[layers.length - 1].digest.slice(7))' "$WORK/app-layout")
  [ -f "$NXWS/dist/images/big/amd64/blobs/sha256/$BIG_LAYER" ] || die "the executor's image lacks the step's big layer sha256:$BIG_LAYER" "the layer write is not deterministic across processes: compare the two layouts"
  rm -rf "$NXWS/big" "$NXWS/dist" "$NXWS/.nx"
  measure "tar piped to gzip -6 (the ${BIG_MIB} MiB file)" "$BIG_BYTES" no bash -c "tar --sort=name --owner=0 --group=0 --mtime=@0 -cf - -C '$WORK/app-ctx' big.bin | gzip -6 -n > '$WORK/tar.gz'"
  rm -f "$WORK/tar.gz"
  umoci init --layout "$WORK/umoci" && umoci new --image "$WORK/umoci:big"
  measure "umoci insert (the ${BIG_MIB} MiB file)" "$BIG_BYTES" no umoci insert --rootless --image "$WORK/umoci:big" "$WORK/app-ctx/big.bin" /data/big.bin
  rm -rf "$WORK/umoci"
  # Pushed again right beside skopeo, to a repository of its own, so both meet the same disk and registry:
  # the first push runs while the 4 GiB just written are still being flushed.
  measure "push app again, beside skopeo" "$APP_BLOBS" yes "${STEP[@]}" push "$WORK/app-layout" "$REGISTRY" big/app-again
  measure "skopeo copy of the plugin's layout (push)" "$APP_BLOBS" no skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/app-layout:big" "docker://$REGISTRY/big/skopeo:big"
fi

printf '\n| step | seconds | MB/s | peak RSS MB | capped |\n| --- | ---: | ---: | ---: | --- |\n'
printf '%s\n' "${ROWS[@]}"
printf '\napp blobs %s MB (layers gzip), Nx local cache entry %s MB\n' "$((APP_BLOBS / 1000000))" "$((CACHE_BYTES / 1000000))"
[ "$FAILED" = 0 ] || die "a plugin process went over $LIMIT_MB MB" "see the table above"
log "every capped process stayed under $LIMIT_MB MB"
