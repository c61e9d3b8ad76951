import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fail, loadPlugin, type Plugin } from './plugin';
import { bytesFrom, writeSyntheticImage } from './synthetic-image';

/**
 * The measuring half of tools/bench/push.sh: manifest-push (publishProject)
 * against `docker push` + `docker manifest`, on the same images, each way to
 * its own fresh loopback registry behind a counting proxy. Settings come from
 * the environment push.sh sets (BENCH_*); figures go to stdout and BENCH_OUT.
 */
const plugin: Plugin = loadPlugin();
const { publishProject, parseArchList, createTar, gzipDeterministic, runChecked, freePort } = plugin;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new plugin.MultiarchError(`${name} is not set.`, 'Run this through bash tools/bench/push.sh.');
  return value;
}

const arches = parseArchList(required('BENCH_ARCHES').split(','));
const trials = Number(required('BENCH_TRIALS'));
const work = required('BENCH_WORK');
const workspace = required('BENCH_WORKSPACE');
const services = join(workspace, 'tools', 'services.sh');
const dockerCli = process.env.BENCH_DOCKER_CLI ?? '';
const withDocker = dockerCli !== '';
const TAG = 'bench';
const err = (line: string): void => {
  process.stderr.write(`bench-push: ${line}\n`);
};

/** Runs a command to its end; the plugin's runner words a failure. */
async function sh(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await runChecked(command, args, { env })).stdout.trim();
}

interface Counts {
  requests: number;
  bytesSent: number;
  bytesReceived: number;
}

interface CountedRegistry {
  host: string;
  snapshot(): Counts;
  stop(): Promise<void>;
}

/**
 * A counting HTTP proxy before a registry: requests, request body bytes and
 * response body bytes, whoever the client is. The Host header passes
 * through, so the registry's upload Locations point back at the proxy.
 */
async function countingProxy(upstreamPort: number): Promise<{ host: string; snapshot(): Counts; close(): Promise<void> }> {
  const counts: Counts = { requests: 0, bytesSent: 0, bytesReceived: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    counts.requests += 1;
    const headers: IncomingHttpHeaders = req.headers;
    const upstream = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.on('data', (chunk: Buffer) => (counts.bytesReceived += chunk.length));
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => (counts.bytesSent += chunk.length));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    snapshot: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A fresh loopback registry (tools/services.sh, the one registry launcher) behind a counting proxy. */
async function freshRegistry(): Promise<CountedRegistry> {
  const port = await freePort();
  await sh('bash', [services, 'start', 'registry', String(port)]);
  const proxy = await countingProxy(port);
  return {
    host: proxy.host,
    snapshot: proxy.snapshot,
    stop: async () => {
      await proxy.close();
      await sh('bash', [services, 'stop', 'registry', String(port)]);
    },
  };
}

// ---------------------------------------------------------------- layouts --
interface Layouts {
  root: string;
  projects: string[];
  kind: string;
}

async function layer(seed: string, size: number): Promise<Buffer> {
  return gzipDeterministic(await createTar([{ path: `${seed}.bin`, type: 'file', content: bytesFrom(seed, size) }], { mtime: 0 }));
}

/** Five Linkerd-shaped images per arch in <work>/ws/dist/images. */
async function syntheticWorkspace(): Promise<Layouts> {
  const root = join(work, 'ws');
  const base = await layer('base', 2 * 1024 * 1024);
  const projects = ['proxy-init', 'controller', 'web', 'proxy', 'debug'];
  for (const project of projects) {
    for (const arch of arches) {
      await writeSyntheticImage(plugin, join(root, 'dist', 'images', project, arch), arch, [base, await layer(`${project}-${arch}`, 6 * 1024 * 1024)]);
    }
  }
  return { root, projects, kind: 'synthetic (2 MiB shared base + 6 MiB own layer per image)' };
}

/** Projects of the real workspace that have a layout for every arch. */
function workspaceLayouts(): Layouts {
  const root = required('BENCH_LAYOUTS');
  const images = join(root, 'dist', 'images');
  const kind = `workspace dist/images${root === workspace ? '' : ` of ${root}`}`;
  if (!existsSync(images)) return { root, projects: [], kind };
  const projects = readdirSync(images).filter((p) => arches.every((a) => existsSync(join(images, p, a, 'index.json'))));
  return { root, projects: projects.sort(), kind };
}

// ------------------------------------------------------------------- ours --
interface Measured extends Counts {
  seconds: number;
  blobs?: string;
}

function measured(started: bigint, before: Counts, registry: CountedRegistry, extra: { blobs?: string } = {}): Measured {
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

async function pushOurs(ws: Layouts, registry: CountedRegistry): Promise<Measured> {
  const before = registry.snapshot();
  const started = process.hrtime.bigint();
  const blobs = { uploaded: 0, mounted: 0, skipped: 0 };
  const done: string[] = [];
  for (const project of ws.projects) {
    const { report } = await publishProject({
      options: { registry: registry.host, repository: `bench/${project}`, tags: TAG, arches, perArchTags: true, mountFrom: done.map((p) => `bench/${p}`) },
      project: { workspaceRoot: ws.root, name: project, root: project },
      log: () => undefined,
    });
    done.push(project);
    if (report) {
      blobs.uploaded += report.blobs.uploaded;
      blobs.mounted += report.blobs.mounted;
      blobs.skipped += report.blobs.skipped;
    }
  }
  return measured(started, before, registry, { blobs: `${blobs.uploaded}/${blobs.mounted}/${blobs.skipped}` });
}

// -------------------------------------------------------------- the RFC way --
const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: process.env.BENCH_DOCKER_HOST, DOCKER_CONFIG: join(work, 'docker-config') });
const docker = (...args: string[]): Promise<string> => sh(dockerCli, args, dockerEnv());
const archiveOf = (project: string, arch: string): string => join(work, 'archives', `${project}-${arch}.tar`);
const localName = (project: string, arch: string): string => `bench/${project}:${TAG}-${arch}`;

/** Each layout as a docker-archive (skopeo), once, before any timing. */
async function writeArchives(ws: Layouts): Promise<void> {
  mkdirSync(join(work, 'archives'), { recursive: true });
  for (const project of ws.projects) {
    for (const arch of arches) {
      await sh('skopeo', ['copy', '--quiet', `oci:${join(ws.root, 'dist', 'images', project, arch)}`, `docker-archive:${archiveOf(project, arch)}:${localName(project, arch)}`]);
    }
  }
}

/** Empties the daemon (this script's own), so each trial loads and pushes from scratch. */
async function clearDaemon(): Promise<void> {
  const ids = (await docker('images', '-aq')).split('\n').filter(Boolean);
  if (ids.length) await docker('rmi', '-f', ...new Set(ids));
}

async function loadForDocker(ws: Layouts, registry: CountedRegistry): Promise<number> {
  const started = process.hrtime.bigint();
  for (const project of ws.projects) {
    for (const arch of arches) {
      await docker('load', '-q', '-i', archiveOf(project, arch));
      await docker('tag', localName(project, arch), `${registry.host}/${localName(project, arch)}`);
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function pushRfc(ws: Layouts, registry: CountedRegistry): Promise<Measured> {
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
interface Trial {
  trial: number;
  oursFirst: Measured;
  oursRepush: Measured;
  dockerLoadSeconds?: number;
  rfcFirst?: Measured;
  rfcRepush?: Measured;
}

type MeasuredKey = 'oursFirst' | 'oursRepush' | 'rfcFirst' | 'rfcRepush';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

async function runTrial(trial: number, ws: Layouts): Promise<Trial> {
  const ours = await freshRegistry();
  let oursFirst: Measured;
  let oursRepush: Measured;
  try {
    oursFirst = await pushOurs(ws, ours);
    oursRepush = await pushOurs(ws, ours);
  } finally {
    await ours.stop();
  }
  const row: Trial = { trial, oursFirst, oursRepush };
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
  return row;
}

async function main(): Promise<void> {
  let ws: Layouts = process.env.BENCH_SYNTHETIC === '1' ? { root: work, projects: [], kind: '' } : workspaceLayouts();
  if (ws.projects.length === 0) ws = await syntheticWorkspace();
  err(`${ws.projects.length} projects x ${arches.length} arches (${arches.join(', ')}), ${ws.kind}; ${trials} trial(s)${withDocker ? '' : ', ours only'}`);
  if (withDocker) {
    err('writing a docker-archive of every layout (skopeo, not timed)');
    mkdirSync(join(work, 'docker-config'), { recursive: true });
    await writeArchives(ws);
  }

  const results: Trial[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    const row = await runTrial(trial, ws);
    const rfc = row.rfcFirst && row.rfcRepush ? `, RFC ${row.rfcFirst.seconds.toFixed(2)} s / ${row.rfcRepush.seconds.toFixed(2)} s (+ load ${(row.dockerLoadSeconds ?? 0).toFixed(2)} s)` : '';
    err(`trial ${trial}: ours ${row.oursFirst.seconds.toFixed(2)} s / ${row.oursRepush.seconds.toFixed(2)} s${rfc}`);
    results.push(row);
  }

  const pick = (r: Trial, key: MeasuredKey): Measured => {
    const m = r[key];
    if (!m) throw new Error(`trial ${r.trial} has no ${key}`);
    return m;
  };
  const med = (key: MeasuredKey, field: keyof Counts | 'seconds'): number => median(results.map((r) => pick(r, key)[field]));
  const line = (cells: string[]): void => console.log(`| ${cells.join(' | ')} |`);
  console.log(`\nmanifest-push benchmark: ${ws.projects.length} projects x ${arches.length} arches (${arches.join(', ')}), ${ws.kind}`);
  console.log(`medians of ${trials} trial(s); requests and bytes counted by the same proxy for both ways; fresh registries per trial\n`);
  line(['way', 'round', 'requests', 'MiB sent', 'MiB received', 'wall s']);
  line(['---', '---', '---:', '---:', '---:', '---:']);
  const rows: Array<[string, string, MeasuredKey]> = [
    ['ours (manifest-push)', 'first push', 'oursFirst'],
    ['ours (manifest-push)', 're-push', 'oursRepush'],
  ];
  if (withDocker) rows.push(['RFC (docker push + manifest)', 'first push', 'rfcFirst'], ['RFC (docker push + manifest)', 're-push', 'rfcRepush']);
  for (const [way, round, key] of rows) {
    line([way, round, String(med(key, 'requests')), mib(med(key, 'bytesSent')), mib(med(key, 'bytesReceived')), med(key, 'seconds').toFixed(2)]);
  }
  const summary: { projects: string[]; arches: string[]; kind: string; trials: Trial[]; ratios?: Record<string, number> } = {
    projects: ws.projects,
    arches,
    kind: ws.kind,
    trials: results,
  };
  if (withDocker) {
    const load = median(results.map((r) => r.dockerLoadSeconds ?? 0));
    const ratio = (rfc: (r: Trial) => number, ours: (r: Trial) => number): number => median(results.map((r) => rfc(r) / ours(r)));
    const ratios = {
      firstPush: ratio((r) => pick(r, 'rfcFirst').seconds, (r) => r.oursFirst.seconds),
      firstPushWithLoad: ratio((r) => pick(r, 'rfcFirst').seconds + (r.dockerLoadSeconds ?? 0), (r) => r.oursFirst.seconds),
      repush: ratio((r) => pick(r, 'rfcRepush').seconds, (r) => r.oursRepush.seconds),
    };
    summary.ratios = ratios;
    console.log(`\ndocker load of the ${ws.projects.length * arches.length} images (RFC way, before its push): ${load.toFixed(2)} s`);
    console.log(`wall time RFC / ours: first push ${ratios.firstPush.toFixed(1)}x (${ratios.firstPushWithLoad.toFixed(1)}x with docker load), re-push ${ratios.repush.toFixed(1)}x`);
  }
  const out = required('BENCH_OUT');
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nfigures: ${out}`);
}

main().catch(fail);
