#!/usr/bin/env bash
# Measures manifest-push against the RFC's way of publishing multi-arch
# images, in the same run, on the same images:
#
#   ours  publishProject (what `nx run-many -t manifest-push` runs) from the
#         OCI layouts in dist/images/<project>/<arch>: blobs, per-arch
#         manifests (and <tag>-<arch> tags, as the RFC leaves), the index last.
#   RFC   per arch `docker load` of the same image as <repo>:<tag>-<arch> and
#         `docker push`, then `docker manifest create --insecure` and
#         `docker manifest push --insecure` (the way linkerd2's RFC and most
#         CI scripts do it).
#
#   bash tools/bench/push.sh [--synthetic | --workspace DIR] [--arches amd64,arm64,arm] [--trials N] [--no-docker]
#
# Each trial pushes to two fresh loopback registries (one per way), each
# behind a counting HTTP proxy, so both ways are measured by the same meter:
# requests, request bytes (sent) and response bytes. Rounds per trial: first
# push, then re-push of the unchanged images; `docker load` is timed on its
# own (a CI job that builds with docker has the images in the daemon
# already; one that gets them as files must load them first).
# Wall-time ratios are RFC / ours, medians over the trials.
#
# Layouts: every project in dist/images/ (of this workspace, or of the
# checkout --workspace names) that has all the arches (build them with
# `npx nx run-many -t docker-arch-build--amd64 docker-arch-build--arm64
# docker-arch-build--arm`), or, when there are none (or with --synthetic),
# five Linkerd-shaped synthetic images per arch. The docker side needs
# docker.io, skopeo (to turn each layout into a docker-archive) and root (it
# starts its own dockerd); --no-docker measures ours alone.
# Bounded: N trials (default 3, at most 5); everything it starts (registries,
# dockerd) is stopped by pid and its folders removed. Figures go to stdout and
# to tmp/bench/push-<time>.json.
set -euo pipefail
LOG_TAG=bench-push
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

synthetic=0
layouts_root=$REPO_ROOT
arches=amd64,arm64,arm
trials=3
docker_way=1
usage="usage: bash tools/bench/push.sh [--synthetic | --workspace DIR] [--arches a,b,c] [--trials N] [--no-docker]"
while [ $# -gt 0 ]; do
  case "$1" in
    --synthetic) synthetic=1 ;;
    --workspace) layouts_root=${2:?--workspace needs a folder}; shift ;;
    --workspace=*) layouts_root=${1#--workspace=} ;;
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    --trials) trials=${2:?--trials needs a value}; shift ;;
    --trials=*) trials=${1#--trials=} ;;
    --no-docker) docker_way=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "$usage" ;;
  esac
  shift
done
[[ "$trials" =~ ^[1-5]$ ]] || die "--trials $trials is not 1 to 5" "give e.g. --trials 3"
[ -d "$layouts_root" ] || die "--workspace $layouts_root is not a folder" "give the root of a checkout whose dist/images holds built layouts"

command -v docker-registry >/dev/null || die "docker-registry not found" "run bash tools/setup.sh"
docker_cli=""
if [ "$docker_way" = 1 ]; then
  command -v skopeo >/dev/null || die "skopeo not found" "install Debian's skopeo, or measure ours alone with --no-docker"
  command -v dockerd >/dev/null || die "dockerd not found" "install Debian's docker.io, or measure ours alone with --no-docker"
  [ "$(id -u)" -eq 0 ] || die "the docker comparison starts its own dockerd, which needs root" "run it as root, or measure ours alone with --no-docker"
  # Debian's engine is 20.10; a client from 23 on may be first on PATH and refuse it, so take the first older one.
  while IFS= read -r candidate; do
    major=$("$candidate" --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
    if [ -n "$major" ] && [ "$major" -lt 23 ]; then docker_cli=$candidate; break; fi
  done < <(type -ap docker | awk '!seen[$0]++')
  [ -n "$docker_cli" ] || docker_cli=$(command -v docker) || die "no docker client found" "install Debian's docker.io"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-push.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
dockerd_started=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Registries the measuring program left running (it stops its own; this covers a crash).
  for dir in "$NX_MULTIARCH_STATE_DIR"/registry-*; do
    if [ -d "$dir" ]; then bash "$REPO_ROOT/tools/services.sh" stop registry "${dir##*-}" >/dev/null 2>&1 || true; fi
  done
  [ "$dockerd_started" = 0 ] || bash "$REPO_ROOT/tools/services.sh" stop dockerd >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the plugin"
(cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
docker_host=""
if [ "$docker_way" = 1 ]; then
  dockerd_started=1
  docker_host=$(bash "$REPO_ROOT/tools/services.sh" start dockerd)
  log "dockerd at $docker_host, client $docker_cli ($("$docker_cli" --version))"
fi
mkdir -p "$REPO_ROOT/tmp/bench"

BENCH_WORKSPACE="$REPO_ROOT" BENCH_LAYOUTS="$(cd "$layouts_root" && pwd)" BENCH_WORK="$work" BENCH_SYNTHETIC="$synthetic" BENCH_ARCHES="$arches" BENCH_TRIALS="$trials" \
  BENCH_DOCKER_CLI="$docker_cli" BENCH_DOCKER_HOST="$docker_host" BENCH_OUT="$REPO_ROOT/tmp/bench/push-$(date -u +%Y%m%dT%H%M%SZ).json" \
  node - <<'JS'
const { existsSync, readdirSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { createHash } = require('node:crypto');
const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const plugin = join(process.env.BENCH_WORKSPACE, 'packages', 'nx-multiarch', 'dist');
const { publishProject } = require(join(plugin, 'publish', 'publish-project'));
const { parseArchList, PLATFORMS } = require(join(plugin, 'platform'));
const { OciLayoutWriter } = require(join(plugin, 'oci', 'layout'));
const { MediaTypes, toPlatform } = require(join(plugin, 'oci', 'types'));
const { createTar } = require(join(plugin, 'archive', 'tar'));
const { gzipDeterministic } = require(join(plugin, 'archive', 'gzip'));

const arches = parseArchList(process.env.BENCH_ARCHES);
const trials = Number(process.env.BENCH_TRIALS);
const work = process.env.BENCH_WORK;
const services = join(process.env.BENCH_WORKSPACE, 'tools', 'services.sh');
const dockerCli = process.env.BENCH_DOCKER_CLI;
const withDocker = Boolean(dockerCli);
const TAG = 'bench';
const err = (line) => process.stderr.write(`bench-push: ${line}\n`);

/** Runs a command to its end; rejects with its stderr on a non-zero exit. */
function sh(command, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (errText += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${errText.trim()}`))));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A counting HTTP proxy before a registry: requests, request body bytes and
 * response body bytes, whoever the client is. The Host header passes
 * through, so the registry's upload Locations point back at the proxy.
 */
async function countingProxy(upstreamPort) {
  const counts = { requests: 0, bytesSent: 0, bytesReceived: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    counts.requests += 1;
    const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.rawHeaders);
      answer.on('data', (chunk) => (counts.bytesReceived += chunk.length));
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk) => (counts.bytesSent += chunk.length));
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${server.address().port}`,
    counts,
    snapshot: () => ({ ...counts }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A fresh loopback registry (tools/services.sh) behind a counting proxy. */
async function freshRegistry() {
  const port = await freePort();
  await sh('bash', [services, 'start', 'registry', String(port)]);
  const proxy = await countingProxy(port);
  return { ...proxy, stop: async () => { await proxy.close(); await sh('bash', [services, 'stop', 'registry', String(port)]); } };
}

// ---------------------------------------------------------------- layouts --
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
  const root = join(work, 'ws');
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
  return { root, projects, kind: 'synthetic (2 MiB shared base + 6 MiB own layer per image)' };
}

/** Projects of the real workspace that have a layout for every arch. */
function workspaceLayouts() {
  const root = process.env.BENCH_LAYOUTS;
  const images = join(root, 'dist', 'images');
  if (!existsSync(images)) return { root, projects: [] };
  const projects = readdirSync(images).filter((p) => arches.every((a) => existsSync(join(images, p, a, 'index.json'))));
  return { root, projects: projects.sort(), kind: `workspace dist/images${root === process.env.BENCH_WORKSPACE ? '' : ` of ${root}`}` };
}

// ------------------------------------------------------------------- ours --
async function pushOurs(ws, registry) {
  const before = registry.snapshot();
  const started = process.hrtime.bigint();
  const blobs = { uploaded: 0, mounted: 0, skipped: 0 };
  const done = [];
  for (const project of ws.projects) {
    const { report } = await publishProject({
      options: { registry: registry.host, repository: `bench/${project}`, tags: TAG, arches, perArchTags: true, mountFrom: done.map((p) => `bench/${p}`) },
      project: { workspaceRoot: ws.root, name: project, root: project },
      log: () => undefined,
    });
    done.push(project);
    blobs.uploaded += report.blobs.uploaded;
    blobs.mounted += report.blobs.mounted;
    blobs.skipped += report.blobs.skipped;
  }
  return measured(started, before, registry, { blobs: `${blobs.uploaded}/${blobs.mounted}/${blobs.skipped}` });
}

function measured(started, before, registry, extra = {}) {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = registry.snapshot();
  return {
    seconds,
    requests: after.requests - before.requests,
    bytesSent: after.bytesSent - before.bytesSent,
    bytesReceived: after.bytesReceived - before.bytesReceived,
    ...extra,
  };
}

// -------------------------------------------------------------- the RFC way --
const dockerEnv = () => ({ ...process.env, DOCKER_HOST: process.env.BENCH_DOCKER_HOST, DOCKER_CONFIG: join(work, 'docker-config') });
const docker = (...args) => sh(dockerCli, args, dockerEnv());
const archiveOf = (project, arch) => join(work, 'archives', `${project}-${arch}.tar`);
const localName = (project, arch) => `bench/${project}:${TAG}-${arch}`;

/** Each layout as a docker-archive (skopeo), once, before any timing. */
async function writeArchives(ws) {
  mkdirSync(join(work, 'archives'), { recursive: true });
  for (const project of ws.projects) {
    for (const arch of arches) {
      await sh('skopeo', ['copy', '--quiet', `oci:${join(ws.root, 'dist', 'images', project, arch)}`, `docker-archive:${archiveOf(project, arch)}:${localName(project, arch)}`]);
    }
  }
}

/** Empties the daemon (this script's own), so each trial loads and pushes from scratch. */
async function clearDaemon() {
  const ids = (await docker('images', '-aq')).split('\n').filter(Boolean);
  if (ids.length) await docker('rmi', '-f', ...new Set(ids));
}

async function loadForDocker(ws, registry) {
  const started = process.hrtime.bigint();
  for (const project of ws.projects) {
    for (const arch of arches) {
      await docker('load', '-q', '-i', archiveOf(project, arch));
      await docker('tag', localName(project, arch), `${registry.host}/${localName(project, arch)}`);
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function pushRfc(ws, registry) {
  const before = registry.snapshot();
  const started = process.hrtime.bigint();
  for (const project of ws.projects) {
    const target = `${registry.host}/bench/${project}:${TAG}`;
    const perArch = arches.map((arch) => `${target}-${arch}`);
    for (const ref of perArch) await docker('push', '-q', ref);
    await docker('manifest', 'create', '--insecure', target, ...perArch);
    await docker('manifest', 'push', '--insecure', '--purge', target);
  }
  return measured(started, before, registry);
}

// ------------------------------------------------------------------ report --
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(2);

(async () => {
  let ws = process.env.BENCH_SYNTHETIC === '1' ? { projects: [] } : workspaceLayouts();
  if (ws.projects.length === 0) ws = await syntheticWorkspace();
  err(`${ws.projects.length} projects x ${arches.length} arches (${arches.join(', ')}), ${ws.kind}; ${trials} trial(s)${withDocker ? '' : ', ours only'}`);
  if (withDocker) {
    err('writing a docker-archive of every layout (skopeo, not timed)');
    mkdirSync(join(work, 'docker-config'), { recursive: true });
    await writeArchives(ws);
  }

  const results = [];
  for (let trial = 1; trial <= trials; trial++) {
    const row = { trial };
    const ours = await freshRegistry();
    try {
      row.oursFirst = await pushOurs(ws, ours);
      row.oursRepush = await pushOurs(ws, ours);
    } finally {
      await ours.stop();
    }
    if (withDocker) {
      const rfc = await freshRegistry();
      try {
        await clearDaemon();
        row.dockerLoadSeconds = await loadForDocker(ws, rfc);
        row.rfcFirst = await pushRfc(ws, rfc);
        row.rfcRepush = await pushRfc(ws, rfc);
      } finally {
        await rfc.stop();
      }
    }
    err(`trial ${trial}: ours ${row.oursFirst.seconds.toFixed(2)} s / ${row.oursRepush.seconds.toFixed(2)} s${withDocker ? `, RFC ${row.rfcFirst.seconds.toFixed(2)} s / ${row.rfcRepush.seconds.toFixed(2)} s (+ load ${row.dockerLoadSeconds.toFixed(2)} s)` : ''}`);
    results.push(row);
  }

  const med = (key, field) => median(results.map((r) => r[key][field]));
  const line = (cells) => console.log(`| ${cells.join(' | ')} |`);
  console.log(`\nmanifest-push benchmark: ${ws.projects.length} projects x ${arches.length} arches (${arches.join(', ')}), ${ws.kind}`);
  console.log(`medians of ${trials} trial(s); requests and bytes counted by the same proxy for both ways; fresh registries per trial\n`);
  line(['way', 'round', 'requests', 'MiB sent', 'MiB received', 'wall s']);
  line(['---', '---', '---:', '---:', '---:', '---:']);
  const rows = [['ours (manifest-push)', 'first push', 'oursFirst'], ['ours (manifest-push)', 're-push', 'oursRepush']];
  if (withDocker) rows.push(['RFC (docker push + manifest)', 'first push', 'rfcFirst'], ['RFC (docker push + manifest)', 're-push', 'rfcRepush']);
  for (const [way, round, key] of rows) line([way, round, String(med(key, 'requests')), mib(med(key, 'bytesSent')), mib(med(key, 'bytesReceived')), med(key, 'seconds').toFixed(2)]);
  const summary = { projects: ws.projects, arches, kind: ws.kind, trials: results };
  if (withDocker) {
    const load = median(results.map((r) => r.dockerLoadSeconds));
    const ratio = (rfc, ours) => median(results.map((r) => rfc(r) / ours(r)));
    summary.ratios = {
      firstPush: ratio((r) => r.rfcFirst.seconds, (r) => r.oursFirst.seconds),
      firstPushWithLoad: ratio((r) => r.rfcFirst.seconds + r.dockerLoadSeconds, (r) => r.oursFirst.seconds),
      repush: ratio((r) => r.rfcRepush.seconds, (r) => r.oursRepush.seconds),
    };
    console.log(`\ndocker load of the ${ws.projects.length * arches.length} images (RFC way, before its push): ${load.toFixed(2)} s`);
    console.log(`wall time RFC / ours: first push ${summary.ratios.firstPush.toFixed(1)}x (${summary.ratios.firstPushWithLoad.toFixed(1)}x with docker load), re-push ${summary.ratios.repush.toFixed(1)}x`);
  }
  writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nfigures: ${process.env.BENCH_OUT}`);
})().catch((error) => {
  console.error(error.message, error.hint ? `\n  hint: ${error.hint}` : '');
  process.exit(1);
});
JS
