#!/usr/bin/env bash
# Big-layer gzip, one stream against blocks on every core (see gzip-blocks.ts).
#
#   bash tools/bench/gzip-blocks.sh [RUNS]
#
# Inputs, written to a temp folder and removed at the end: 256 MiB of machine
# code (the Go toolchain's own binaries, repeated: what a fat binary layer
# holds) and 256 MiB of the big-image proof's content (each MiB 64 KiB random,
# then zeros).
set -euo pipefail
LOG_TAG=bench-gzip-blocks
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/proof-content.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/proof-content.sh"

runs=${1:-3}
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "RUNS must be 1 to 99" "e.g. bash tools/bench/gzip-blocks.sh 3"
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-gzip-blocks.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$REPO_ROOT"
npm run --silent build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"
tools=$(go env GOTOOLDIR)
while [ "$(stat -c %s "$work/binaries.bin" 2>/dev/null || echo 0)" -lt $((256 * 1024 * 1024)) ]; do
  cat "$tools"/* >>"$work/binaries.bin"
done
truncate -s 256M "$work/binaries.bin"
write_proof_content "$work/sparse.bin" 256
node -r "$REPO_ROOT/node_modules/@swc-node/register" tools/bench/gzip-blocks.ts "$runs" "$work/binaries.bin" "$work/sparse.bin"
