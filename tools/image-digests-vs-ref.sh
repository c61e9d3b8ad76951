#!/usr/bin/env bash
# Proves that this checkout builds byte-identical images to an earlier commit:
# every image of the main job (every project, every configured arch) is built
# with `nx run-many -t docker-arch-build` in this checkout and in a fresh clone
# of REF, and the manifest digest of every (project, arch) layout, plus the
# digest of every blob each one lists, must be the same on both sides.
#
#   bash tools/image-digests-vs-ref.sh [--ref-dir DIR] [REF]     (default REF: main)
#
# --ref-dir DIR reuses (and keeps) a checkout of REF with node_modules from an
# earlier run, instead of a fresh clone. Images whose content is this
# checkout's own plugin code (nx-multiarch-cache-server: its rootfs holds the
# compiled plugin) differ by construction: they are listed, not compared.
# Exits 0 when every other digest matches, 1 (printing the differences) otherwise.
# Costs one cold build of the matrix for REF (fresh Nx cache) and a normal one
# here; the machine's Go module and crate caches are shared, so little is fetched.
set -euo pipefail
LOG_TAG=image-digests
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REF_DIR=
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  --ref-dir) REF_DIR=$2; shift 2 ;;
esac
REF=${1:-main}
# Projects whose image holds the plugin's own code, so any change to src/ changes them.
SELF_CONTAINING='nx-multiarch-cache-server'
git -C "$REPO_ROOT" rev-parse --verify -q "$REF^{commit}" >/dev/null || die "unknown commit '$REF'" "give a branch or commit of this repository"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-image-digests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# digests DIR: one line per image layout under DIR/dist/images, "<project>/<arch> <manifest digest> <blob digests...>".
digests() {
  local dir=$1 index
  (cd "$dir/dist/images" && find . -name index.json -path '*/*/index.json' | sort) | while read -r index; do
    local name=${index#./}
    name=${name%/index.json}
    node -e '
      const fs = require("fs"), path = require("path");
      const layout = process.argv[1];
      const index = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8"));
      const out = [];
      for (const m of index.manifests) {
        const manifest = JSON.parse(fs.readFileSync(path.join(layout, "blobs", "sha256", m.digest.slice(7)), "utf8"));
        out.push(m.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest));
      }
      console.log(out.join(" "));
    ' "$dir/dist/images/$name" | sed "s|^|$name |"
  done
}

# The image targets of every configured arch: the first arch's is docker-arch-build, the others' docker-arch-build--<arch>.
image_targets() {
  node -e '
    const nx = require(require("path").join(process.argv[1], "nx.json"));
    const plugin = (nx.plugins || []).find((p) => (p.plugin || p) === "nx-multiarch");
    const arches = (plugin && plugin.options && plugin.options.arches) || ["amd64"];
    console.log(arches.map((a, i) => (i === 0 ? "docker-arch-build" : `docker-arch-build--${a}`)).join(","));
  ' "$1"
}

# build DIR LOG: every image of the workspace, every arch.
build() {
  (cd "$1" && nice -n 10 env NX_DAEMON=false npx nx run-many -t "$(image_targets "$1")" --outputStyle=static >"$2" 2>&1) ||
    { tail -n 30 "$2" >&2; die "the image build failed in $1" "see the output above"; }
}

if [ -n "$REF_DIR" ]; then
  [ "$(git -C "$REF_DIR" rev-parse HEAD)" = "$(git -C "$REPO_ROOT" rev-parse "$REF")" ] || die "$REF_DIR is not at $REF" "check out $REF there, or leave --ref-dir out"
  REF_CHECKOUT=$REF_DIR
  log "reference $REF in $REF_DIR: every image for every arch"
else
  REF_CHECKOUT="$WORK/ref"
  log "reference $REF: fresh clone, npm ci, every image for every arch"
  git clone -q "$REPO_ROOT" "$REF_CHECKOUT"
  git -C "$REF_CHECKOUT" checkout -q "$(git -C "$REPO_ROOT" rev-parse "$REF")"
  (cd "$REF_CHECKOUT" && npm ci --no-audit --no-fund >"$WORK/ref-npm.log" 2>&1) || die "npm ci failed in the reference clone" "see $WORK/ref-npm.log"
fi
build "$REF_CHECKOUT" "$WORK/ref-build.log"
digests "$REF_CHECKOUT" | grep -v "^$SELF_CONTAINING/" >"$WORK/ref.txt" || true

log "this checkout ($(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet || echo ', with uncommitted changes')): every image for every arch"
npm run --silent --prefix "$REPO_ROOT" build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"
build "$REPO_ROOT" "$WORK/head-build.log"
digests "$REPO_ROOT" | grep -v "^$SELF_CONTAINING/" >"$WORK/head.txt" || true
log "not compared (their image holds the plugin's own code): $SELF_CONTAINING"

[ -s "$WORK/ref.txt" ] || die "the reference built no image layouts" "see $WORK/ref-build.log"
images=$(wc -l <"$WORK/ref.txt")
if diff -u "$WORK/ref.txt" "$WORK/head.txt"; then
  log "all $images images (project/arch) have the same manifest, config and layer digests as $REF"
  awk '{ print $1, $2 }' "$WORK/head.txt"
else
  log "digests differ from $REF (above: - $REF, + this checkout)"
  exit 1
fi
