#!/usr/bin/env bash
# Measures manifest-push: a first push and a re-push of a set of image
# layouts to a fresh loopback registry, with the requests made, the bytes
# sent and the wall time of each.
#
#   bash tools/bench-push.sh [--synthetic] [--arches amd64,arm64,arm]
#
# Layouts: every project in dist/images/ that has all the arches, or, when
# there are none (or with --synthetic), five Linkerd-shaped synthetic images
# per arch (a 2 MiB base layer shared by all, a 6 MiB layer of their own).
# Projects are pushed one after another, each allowed to mount shared blobs
# from the repositories pushed before it. Bounded: one registry on 127.0.0.1,
# two pushes, then everything it started is stopped and its folder removed.
set -euo pipefail
LOG_TAG=bench-push
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

synthetic=0
arches=amd64,arm64,arm
while [ $# -gt 0 ]; do
  case "$1" in
    --synthetic) synthetic=1 ;;
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    *) die "unknown argument $1" "usage: bash tools/bench-push.sh [--synthetic] [--arches a,b,c]" ;;
  esac
  shift
done

command -v docker-registry >/dev/null || die "docker-registry not found" "run bash tools/setup.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-push.XXXXXX")
port=$(free_port)
export NX_MULTIARCH_STATE_DIR="$work/services"
cleanup() {
  bash "$REPO_ROOT/tools/services.sh" stop registry "$port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "building the plugin"
(cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
registry=$(bash "$REPO_ROOT/tools/services.sh" start registry "$port")
log "registry at $registry"

BENCH_WORKSPACE="$REPO_ROOT" BENCH_WORK="$work" BENCH_SYNTHETIC="$synthetic" BENCH_ARCHES="$arches" BENCH_REGISTRY="$registry" \
  node - <<'JS'
const { existsSync, readdirSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const { createHash } = require('node:crypto');
const plugin = join(process.env.BENCH_WORKSPACE, 'packages', 'nx-multiarch', 'dist');
const { publishProject } = require(join(plugin, 'publish', 'publish-project'));
const { parseArchList, PLATFORMS } = require(join(plugin, 'platform'));
const { OciLayoutWriter } = require(join(plugin, 'oci', 'layout'));
const { MediaTypes, toPlatform } = require(join(plugin, 'oci', 'types'));
const { createTar } = require(join(plugin, 'archive', 'tar'));
const { gzipDeterministic } = require(join(plugin, 'archive', 'gzip'));

const arches = parseArchList(process.env.BENCH_ARCHES);
const registry = process.env.BENCH_REGISTRY;

function bytesFrom(seed, size) {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

async function layer(seed, size) {
  return gzipDeterministic(await createTar([{ path: `${seed}.bin`, type: 'file', content: bytesFrom(seed, size) }], { mtime: 0 }));
}

/** Five Linkerd-shaped images per arch in <work>/ws/dist/images. */
async function syntheticWorkspace() {
  const root = join(process.env.BENCH_WORK, 'ws');
  const base = await layer('base', 2 * 1024 * 1024);
  const projects = ['proxy-init', 'controller', 'web', 'proxy', 'debug'];
  for (const project of projects) {
    for (const arch of arches) {
      const dir = join(root, 'dist', 'images', project, arch);
      mkdirSync(dir, { recursive: true });
      const w = new OciLayoutWriter(dir);
      await w.init();
      const layers = [await w.writeBlob(base, MediaTypes.ociLayerGzip), await w.writeBlob(await layer(`${project}-${arch}`, 6 * 1024 * 1024), MediaTypes.ociLayerGzip)];
      const oci = PLATFORMS[arch].oci;
      const config = await w.writeJsonBlob({ architecture: oci.architecture, os: oci.os, ...(oci.variant ? { variant: oci.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } }, MediaTypes.ociConfig);
      const manifest = await w.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers }, MediaTypes.ociManifest);
      await w.writeIndex([{ ...manifest, platform: toPlatform(oci) }]);
    }
  }
  return { root, projects };
}

/** Projects of the real workspace that have a layout for every arch. */
function workspaceLayouts() {
  const root = process.env.BENCH_WORKSPACE;
  const images = join(root, 'dist', 'images');
  if (!existsSync(images)) return { root, projects: [] };
  const projects = readdirSync(images).filter((p) => arches.every((a) => existsSync(join(images, p, a, 'image.json')) || existsSync(join(images, p, a, 'index.json'))));
  return { root, projects: projects.sort() };
}

async function pushAll(ws, round) {
  const started = process.hrtime.bigint();
  const totals = { requests: 0, bytesSent: 0, uploaded: 0, mounted: 0, skipped: 0, blobBytes: 0 };
  const done = [];
  for (const project of ws.projects) {
    const { report } = await publishProject({
      options: { registry, repository: `bench/${project}`, tags: 'bench', arches, mountFrom: done.map((p) => `bench/${p}`) },
      project: { workspaceRoot: ws.root, name: project, root: project },
      log: () => undefined,
    });
    done.push(project);
    totals.requests += report.requests;
    totals.bytesSent += report.bytesSent;
    totals.uploaded += report.blobs.uploaded;
    totals.mounted += report.blobs.mounted;
    totals.skipped += report.blobs.skipped;
    totals.blobBytes += report.blobs.bytesUploaded;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `${round.padEnd(9)} ${String(totals.requests).padStart(8)} ${String(totals.bytesSent).padStart(12)} ${`${totals.uploaded}/${totals.mounted}/${totals.skipped}`.padStart(16)} ${seconds.toFixed(2).padStart(8)}`,
  );
}

(async () => {
  let ws = process.env.BENCH_SYNTHETIC === '1' ? { projects: [] } : workspaceLayouts();
  let kind = 'workspace dist/images';
  if (ws.projects.length === 0) {
    ws = await syntheticWorkspace();
    kind = 'synthetic (2 MiB shared base + 6 MiB own layer per image)';
  }
  console.log(`manifest-push benchmark: ${ws.projects.length} projects x ${arches.length} arches (${arches.join(', ')}), ${kind}, registry ${registry}`);
  console.log(`${'round'.padEnd(9)} ${'requests'.padStart(8)} ${'bytes sent'.padStart(12)} ${'up/mount/skip'.padStart(16)} ${'wall s'.padStart(8)}`);
  await pushAll(ws, 'first');
  await pushAll(ws, 're-push');
})().catch((error) => {
  console.error(error.message, error.hint ? `\n  hint: ${error.hint}` : '');
  process.exit(1);
});
JS
