import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { selectDockerCli } from '../../src/docker-daemon/cli';
import { MediaTypes, type ImageIndex, type ImageManifest } from '../../src/oci/types';
import { readJsonFile } from '../../src/outputs/json-file';
import { pushRecordPath, type PushRecord } from '../../src/outputs/push-record';
import { RegistryClient } from '../../src/registry/client';
import { run, which } from '../../src/util/exec';
import { startCacheServer, type CacheServerProcess } from '../support/cache-server';
import { startTestDockerd, type TestDockerDaemon } from '../support/dockerd';
import { runNx, taskOutput, type Clone, type NxRun } from '../support/nx-clone';
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
 * `manifest-push` for all arches (`nx run-many -t manifest-push
 * --registry=…`, the main job) — compiling nothing and building no image,
 * every task a remote hit — and pushes correct multi-arch indexes.
 *
 * Then the pushed images are read back by third parties, as the push job of
 * a CI run leaves them: a batched re-push finds every tag in place; skopeo
 * reads each index; and a Docker engine pulls the linux/arm64 (and
 * linux/arm/v7) image from the registry and runs the Linkerd-shaped binary
 * in it under binfmt/qemu, which prints the platform it was built for.
 * (One Nx run that compiles, builds and pushes, from a fresh clone, is run
 * in test/faults/services.test.ts: linkerd2-proxy-init for three arches.)
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
  /** The image projects clone C pushed. */
  let pushed: string[] = [];

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
    pushed = pushes.map((l) => l.project).sort();
    expect(pushed).toEqual(expect.arrayContaining(['linkerd2-controller', 'linkerd2-proxy-init', 'linkerd2-proxy-image', 'linkerd2-web', 'linkerd2-debug']));
    for (const project of pushed) expect(run.output).toMatch(new RegExp(`${project}:\\s+tag latest -> index sha256:[a-f0-9]{64}`));
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

  describe('the pushed images, as a re-push, skopeo and docker see them', () => {
    let dockerd: TestDockerDaemon;
    let docker: string;

    const skopeoRaw = async (reference: string, config = false): Promise<Record<string, unknown>> => {
      const args = ['inspect', '--raw', ...(config ? ['--config'] : []), '--tls-verify=false', `docker://${registry.host}/${reference}`];
      const result = await run('skopeo', args);
      if (result.exitCode !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const dockerRun = async (args: string[]) => {
      const result = await run(docker, args, { env: dockerd.env, timeoutMs: 180_000 });
      if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
      return result.stdout.trim();
    };

    beforeAll(async () => {
      // qemu for arm64 and arm, registered machine-wide (a no-op when already there).
      const binfmt = await run('bash', [join(checkout.dir, 'tools', 'services.sh'), 'start', 'binfmt', 'qemu-aarch64', 'qemu-arm']);
      if (binfmt.exitCode !== 0) throw new Error(`binfmt registration failed: ${binfmt.stderr}`);
      dockerd = await startTestDockerd();
      // The client the plugin's docker engine would pick for this daemon.
      docker = (await selectDockerCli(dockerd.env)).path;
    }, 120_000);
    afterAll(async () => {
      if (dockerd && !dockerd.owned) {
        for (const project of pushed) await run(docker, ['rmi', '-f', `${registry.host}/${project}:latest`], { env: dockerd.env });
      }
      await dockerd?.stop();
    }, 120_000);

    it('a re-push as Nx batches (--batch) prints each push under its own task, and writes nothing', async () => {
      const c = clones.c;
      if (!c || pushed.length === 0) throw new Error('clone C pushed nothing');
      await rm(join(c.dir, 'dist', 'push'), { recursive: true, force: true });
      const result = await runNx(c, ['run-many', '-t', 'manifest-push', `--registry=${registry.host}`, `--exclude=${CACHE_SERVER_IMAGE}`, '--excludeTaskDependencies', '--batch']);
      expectSuccess(result, 'the batched re-push');
      expect(result.output).toMatch(/Running \d+ tasks with nx-multiarch:manifest-push/);
      for (const project of pushed) {
        const output = taskOutput(result.output, `${project}:manifest-push`);
        expect(output).toMatch(new RegExp(`^Pushed ${registry.host.replace(/\./g, '\\.')}/${project}@sha256:[a-f0-9]{64} as latest$`, 'm'));
        // Another task's summary never lands in this one's block.
        expect(output.match(/^Pushed /gm)).toHaveLength(1);
        const record = await readJsonFile<PushRecord>(pushRecordPath(c.dir, project));
        expect(record).toMatchObject({ project, requests: 1, manifestsPushed: 0 });
      }
    }, 300_000);

    it('skopeo inspect --raw shows, for every image, an OCI index of amd64, arm64 and arm/v7 whose configs agree', async () => {
      expect(pushed.length).toBeGreaterThan(0);
      for (const project of pushed) {
        const index = (await skopeoRaw(`${project}:latest`)) as unknown as ImageIndex;
        expect(index.mediaType).toBe(MediaTypes.ociIndex);
        expect(index.manifests.map((m) => m.platform)).toEqual(expect.arrayContaining(ARCHES.map((arch) => ({ os: 'linux', ...PLATFORM_OF[arch] }))));
        expect(index.manifests).toHaveLength(ARCHES.length);
        for (const child of index.manifests) {
          expect(child.mediaType).toBe(MediaTypes.ociManifest);
          const config = await skopeoRaw(`${project}@${child.digest}`, true);
          expect({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }).toEqual(child.platform);
        }
      }
    }, 120_000);

    it.each([
      ['linkerd2-controller', 'linux/arm64', /^linkerd2-controller \S+ linux\/arm64$/],
      ['linkerd2-proxy-init', 'linux/arm64', /^linkerd2-proxy-init \S+ linux\/arm64$/],
      ['linkerd2-proxy-init', 'linux/arm/v7', /^linkerd2-proxy-init \S+ linux\/arm\/v7$/],
    ])('docker pulls %s for %s from the registry and runs it under binfmt: the binary prints its platform', async (project, platform, expected) => {
      const image = `${registry.host}/${project}:latest`;
      await dockerRun(['pull', '--platform', platform, image]);
      const [os, architecture, variant] = platform.split('/');
      const inspected = await dockerRun(['image', 'inspect', image, '--format', '{{.Os}}/{{.Architecture}}/{{.Variant}}']);
      expect(inspected).toBe(`${os}/${architecture}/${variant ?? ''}`);
      const printed = await dockerRun(['run', '--rm', '--pull', 'never', '--network', 'none', '--platform', platform, image, '--version']);
      expect(printed).toMatch(expected);
    }, 240_000);
  });
});
