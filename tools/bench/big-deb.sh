#!/usr/bin/env bash
# A big Debian package through the native engine's package install: the
# plugin's readDeb (dpkg-deb --fsys-tarfile piped into the tar reader, each
# file streamed to an extract folder) against dpkg-deb -x (Debian's own
# unpack) on the same .deb, in the same run. Prints seconds, MB/s and peak
# RSS (/usr/bin/time -v) of each.
#
#   bash tools/bench/big-deb.sh [MIB] [RUNS]      (default 1536 MiB, 2 runs)
#
# The package holds one file of MIB MiB (each MiB 64 KiB random, then zeros,
# as the big-image proof's content), gzip-compressed as dpkg-deb builds it:
# a CUDA-toolkit-sized .deb. Everything is written to a temp folder under
# TMPDIR and removed at the end.
set -euo pipefail
LOG_TAG=bench-big-deb
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/proof-content.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/proof-content.sh"

mib=${1:-1536}
runs=${2:-2}
[[ "$mib" =~ ^[1-9][0-9]{0,4}$ ]] || die "MIB must be 1 to 99999" "e.g. bash tools/bench/big-deb.sh 1536"
[[ "$runs" =~ ^[1-9]$ ]] || die "RUNS must be 1 to 9" "e.g. bash tools/bench/big-deb.sh 1536 2"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found" "install dpkg"
[ -x /usr/bin/time ] || die "/usr/bin/time not found" "apt-get install time"
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-big-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$REPO_ROOT"
npm run --silent build:plugin || die "the plugin build failed" "run npm run build:plugin to see the TypeScript errors"

mkdir -p "$work/pkg/DEBIAN" "$work/pkg/opt/big"
printf 'Package: nxm-big\nVersion: 1.0-1\nArchitecture: arm64\nMaintainer: nx-multiarch bench <bench@example.invalid>\nDescription: one big file\n' >"$work/pkg/DEBIAN/control"
write_proof_content "$work/pkg/opt/big/data.bin" "$mib"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/pkg" "$work/big.deb" >/dev/null
rm -rf "$work/pkg"
bytes=$((mib * 1024 * 1024))
log "package: $(du -m "$work/big.deb" | cut -f1) MB .deb holding a $mib MiB file"

# The plugin's reader as the engine calls it, from the compiled plugin.
cat >"$work/read-deb.js" <<'JS'
const { readDeb } = require(process.argv[2]);
readDeb(process.argv[3], process.argv[4]).then((deb) => {
  if (!deb.files.some((f) => f.source && f.source.size > 0)) throw new Error('no file was extracted');
}).catch((error) => { console.error(error.message); process.exit(1); });
JS

# measure NAME CMD...: seconds, MB/s of the file and peak RSS.
measure() {
  local name=$1 start end rss
  shift
  rm -rf "$work/out" && mkdir "$work/out"
  sync
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" || die "$name failed" "see the output above"
  end=$(date +%s.%N)
  rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$work/time.txt")
  awk -v n="$name" -v a="$start" -v b="$end" -v by="$bytes" -v r="$rss" 'BEGIN { printf "| %s | %.1f | %.0f | %s |\n", n, b - a, by / 1e6 / (b - a), r }'
}

echo "| unpack | seconds | MB/s | peak RSS MB |"
echo "| --- | ---: | ---: | ---: |"
for _ in $(seq "$runs"); do
  measure "plugin readDeb" node "$work/read-deb.js" "$REPO_ROOT/packages/nx-multiarch/dist/debian/deb-file.js" "$work/big.deb" "$work/out"
  measure "dpkg-deb -x" dpkg-deb -x "$work/big.deb" "$work/out"
done
