import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { MediaTypes, type ImageIndex, type ImageManifest } from '../../src/oci/types';
import { RegistryClient } from '../../src/registry/client';
import { which } from '../../src/util/exec';
import { startCacheServer, type CacheServerProcess } from '../support/cache-server';
import { runNx, type Clone, type NxRun } from '../support/nx-clone';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { CACHE_SERVER_IMAGE } from '../support/workspace-projects';

/**
 * Issue 8's proof on the real workspace: a CI run of the whole image matrix
 * simulated on one machine. One docker-registry and one `nx-multiarch
 * cache-server --storage oci://…` on loopback, the cache entries in the same
 * registry that receives the images. Three fresh clones of this repository
 * with empty local Nx caches: A builds every arm64 image, B (at the same
 * time, as a second CI machine would) every amd64 and arm image, and C runs
 * `manifest-push` for all arches — compiling nothing and building no image,
 * every task a remote hit — and pushes correct multi-arch indexes.
 */
const ARCHES = ['amd64', 'arm64', 'arm'] as const;
const CACHE_REPOSITORY = 'ci/nx-cache';
const PLATFORM_OF: Record<(typeof ARCHES)[number], { architecture: string; variant?: string }> = {
  amd64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64' },
  arm: { architecture: 'arm', variant: 'v7' },
};

interface TaskLine {
  project: string;
  target: string;
  /** `remote cache`, `local cache`, … or undefined when the task ran. */
  source?: string;
}

/** The `> nx run project:target [source]` lines Nx prints (stream output), one per task. */
function taskLines(output: string): TaskLine[] {
  return [...output.matchAll(/^> nx run ([\w.-]+):([\w.-]+)(?:[^\n[]*\[([^\]]+)\])?/gm)].map((m) => ({ project: m[1], target: m[2], source: m[3] }));
}

/** `PUT /v1/cache/<hash> 200` and `GET … 200` lines of the server's request log. */
function logged(log: string, method: 'GET' | 'PUT', status: number): string[] {
  return [...log.matchAll(new RegExp(`${method} /v1/cache/(\\w+) ${status} `, 'g'))].map((m) => m[1]);
}

/** The manifest digest a built layout holds (dist/images/<project>/<arch>/index.json). */
async function layoutDigest(clone: Clone, project: string, arch: string): Promise<string> {
  const index = JSON.parse(await readFile(join(clone.dir, 'dist', 'images', project, arch, 'index.json'), 'utf8')) as ImageIndex;
  expect(index.manifests).toHaveLength(1);
  return index.manifests[0].digest;
}

function expectSuccess(run: NxRun, what: string): void {
  if (run.exitCode !== 0) throw new Error(`${what} failed (exit ${run.exitCode}):\n${run.output.slice(-6000)}`);
}

describe('CI matrix over the remote cache on the real workspace (oci:// storage)', () => {
  let registry: RegistryServer;
  let server: CacheServerProcess;
  let checkout: Checkout;
  let scratch: string;
  const clones: Partial<Record<'a' | 'b' | 'c', Clone>> = {};
  const builtBy: Record<string, Clone> = {};

  beforeAll(async () => {
    registry = await startRegistry();
    server = await startCacheServer({ storage: `oci://${registry.host}/${CACHE_REPOSITORY}` });
    checkout = await checkoutRepository();
    scratch = await mkdtemp(join(tmpdir(), 'nxm-ci-matrix-'));
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await registry?.stop();
    await checkout?.remove();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  const rw = () => ({ url: server.url, token: server.readWriteToken });

  it('clones A (arm64) and B (amd64 and arm), side by side, build their images and store every task result', async () => {
    const [a, b] = await Promise.all([checkout.clone('a'), checkout.clone('b')]);
    clones.a = a;
    clones.b = b;
    const [runA, runB] = await Promise.all([
      runNx(a, ['run-many', '-t', 'docker-arch-build--arm64', `--exclude=${CACHE_SERVER_IMAGE}`], rw()),
      runNx(b, ['run-many', '-t', 'docker-arch-build--amd64', 'docker-arch-build--arm', `--exclude=${CACHE_SERVER_IMAGE}`], rw()),
    ]);
    expectSuccess(runA, 'clone A');
    expectSuccess(runB, 'clone B');
    for (const [run, arches, clone] of [
      [runA, ['arm64'], a],
      [runB, ['amd64', 'arm'], b],
    ] as const) {
      const lines = taskLines(run.output);
      // A fresh clone with an empty cache that is first to build: every task really runs.
      expect(lines.filter((l) => l.source !== undefined)).toEqual([]);
      expect(new Set(lines.map((l) => l.target.split('--')[1]))).toEqual(new Set(arches));
      for (const line of lines.filter((l) => l.target.startsWith('docker-arch-build--'))) builtBy[`${line.project}/${line.target.split('--')[1]}`] = clone;
    }
    // Every image project, for each of the three arches, was built by A or B.
    const images = await readdir(join(a.dir, 'dist', 'images'));
    expect(images.length).toBeGreaterThanOrEqual(5);
    for (const project of images) for (const arch of ARCHES) expect(builtBy[`${project}/${arch}`]).toBeDefined();
    // Every task of both runs went up to the server, and the registry holds each as an entry.
    const tasks = taskLines(runA.output).length + taskLines(runB.output).length;
    expect(logged(server.log(), 'PUT', 200)).toHaveLength(tasks);
    const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
    try {
      expect(await reader.listTags(CACHE_REPOSITORY)).toHaveLength(tasks);
    } finally {
      reader.close();
    }
  }, 900_000);

  it('clone C runs manifest-push for every arch: every task a remote hit, no compiler run, and correct 3-arch indexes pushed', async () => {
    expect(clones.a && clones.b).toBeTruthy();
    const c = await checkout.clone('c');
    clones.c = c;
    // go on PATH is a wrapper that records each call; an empty GOCACHE shows any compile.
    const bin = join(scratch, 'bin');
    const goLog = join(scratch, 'go-calls.log');
    const goCache = join(scratch, 'gocache');
    await mkdir(bin);
    const realGo = which('go');
    if (!realGo) throw new Error('go is not on PATH');
    await writeFile(join(bin, 'go'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${goLog}'\nexec '${realGo}' "$@"\n`);
    await chmod(join(bin, 'go'), 0o755);
    await writeFile(goLog, '');
    const hitsBefore = logged(server.log(), 'GET', 200).length;
    const putsBefore = logged(server.log(), 'PUT', 200).length;

    const run = await runNx(c, ['run-many', '-t', 'manifest-push', `--registry=${registry.host}`, `--exclude=${CACHE_SERVER_IMAGE}`], rw(), {
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      GOCACHE: goCache,
    });
    expectSuccess(run, 'clone C');

    const lines = taskLines(run.output);
    const pushes = lines.filter((l) => l.target === 'manifest-push');
    const cacheable = lines.filter((l) => l.target !== 'manifest-push');
    // Nx's own view: every cacheable task came from the remote cache, and its summary says so.
    expect(cacheable.filter((l) => l.source !== 'remote cache')).toEqual([]);
    expect(run.output).toContain(`Nx read the output from the cache instead of running the command for ${cacheable.length} out of ${lines.length} tasks`);
    // Exactly the images A and B built were needed and restored.
    const restored = cacheable.filter((l) => l.target.startsWith('docker-arch-build--')).map((l) => `${l.project}/${l.target.split('--')[1]}`);
    expect(restored.sort()).toEqual(Object.keys(builtBy).sort());
    expect(pushes.map((l) => l.project).sort()).toEqual([...new Set(restored.map((r) => r.split('/')[0]))].sort());
    expect(logged(server.log(), 'GET', 200).length - hitsBefore).toBe(cacheable.length);
    expect(logged(server.log(), 'PUT', 200).length).toBe(putsBefore);

    // No compiler ran: go was only asked its version (for Nx's hash), the Go cache is untouched, and cargo never made its target folder.
    const goCalls = (await readFile(goLog, 'utf8')).split('\n').filter(Boolean);
    expect(goCalls.length).toBeGreaterThan(0);
    expect(goCalls.filter((call) => !/^(version|env)\b/.test(call))).toEqual([]);
    expect(existsSync(goCache) ? await readdir(goCache) : []).toEqual([]);
    expect(existsSync(join(c.dir, '.nx-multiarch', 'cargo-target'))).toBe(false);

    // Each project's index: OCI, three arches with the right platform, each child the very image A or B built.
    const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
    try {
      for (const project of pushes.map((l) => l.project)) {
        const index = JSON.parse((await reader.getManifest(project, 'latest')).body.toString('utf8')) as ImageIndex;
        expect(index.mediaType).toBe(MediaTypes.ociIndex);
        expect(index.manifests).toHaveLength(ARCHES.length);
        for (const arch of ARCHES) {
          const wanted = PLATFORM_OF[arch];
          const child = index.manifests.find((m) => m.platform?.architecture === wanted.architecture);
          expect(child?.platform).toEqual({ os: 'linux', ...wanted });
          expect(child?.digest).toBe(await layoutDigest(builtBy[`${project}/${arch}`], project, arch));
          const manifest = JSON.parse((await reader.getManifest(project, child?.digest ?? '')).body.toString('utf8')) as ImageManifest;
          for (const layer of [manifest.config, ...manifest.layers]) expect(await reader.hasBlob(project, layer.digest)).toBe(true);
        }
      }
    } finally {
      reader.close();
    }
  }, 300_000);
});
