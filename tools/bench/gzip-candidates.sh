#!/usr/bin/env bash
# Layer compressors side by side (see gzip-candidates.mjs for what is measured).
#
#   bash tools/bench/gzip-candidates.sh [RUNS] [FILE...]
#
# Installs the pinned candidates with npm into a temp folder (they are not
# dependencies of the plugin), then compresses each FILE. Default inputs: a
# tar of Go's gofmt binary and of the cargo binary (what a layer of this
# workspace's images holds: one binary), and a tar of the plugin's sources (text). Needs the compiled plugin
# (npm run build:plugin) and the zstd command (Debian's zstd).
set -euo pipefail
LOG_TAG=bench-gzip
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

runs=${1:-5}
shift || true
command -v zstd >/dev/null || die "zstd not found" "apt-get install zstd"
[ -f "$REPO_ROOT/packages/nx-multiarch/dist/bench-api.js" ] || die "the plugin is not compiled" "run npm run build:plugin"
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-gzip.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo '{ "private": true }' >"$work/package.json"
(cd "$work" && npm install --no-audit --no-fund --silent --save-exact fflate@0.8.3 wasm-gzip@2.1.0 @bokuweb/zstd-wasm@0.0.27)
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  tar -C "$(go env GOROOT)/bin" -cf "$work/gofmt.tar" gofmt
  tar -C "$(dirname "$(readlink -f "$(command -v cargo)")")" -cf "$work/cargo.tar" "$(basename "$(readlink -f "$(command -v cargo)")")"
  # Text: the plugin's own sources (a layer of scripts or configuration).
  tar -C "$REPO_ROOT/packages/nx-multiarch" --sort=name --mtime=@0 --owner=0 --group=0 -cf "$work/sources.tar" src
  files=("$work/gofmt.tar" "$work/cargo.tar" "$work/sources.tar")
fi
nice -n 10 node "$REPO_ROOT/tools/bench/gzip-candidates.mjs" "$work" "$runs" "${files[@]}"
