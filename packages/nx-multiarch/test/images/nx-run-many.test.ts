import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { readTar } from '../../src/oci/tar';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { validateLayout, WORKSPACE_ROOT } from '../support/oci-schemas';
import { goCacheOutputs, sha256File } from '../cross/helpers';
import { imageFiles } from './helpers';
import { CACHE_SERVER_IMAGE } from '../support/workspace-projects';
import { NX_TEST_ENV } from '../support/nx-env';

/**
 * Real Nx on this workspace's own commit: `nx run-many -t docker-arch-build
 * --arch=arm` in a fresh git clone (with its own empty Nx cache) builds the
 * binaries and then every image in graph order, a warm rerun does no build
 * work, deleting dist restores from the cache, and a second clone at a longer
 * path gives the same bytes: every binary, the proxy package and every image
 * digest. The second clone builds with its own Go caches (GOCACHE,
 * GOMODCACHE) and its own cargo target folder, so its binaries are compiled
 * by it, not reused from the first's caches. Nx and the compiled plugin come
 * from this checkout's node_modules (run `npm run build:plugin` first).
 *
 * The tests do not lean on each other's state: each awaits the first clone's
 * build (run once, memoised) instead of reading what an earlier test left,
 * so one failing assertion does not fail the others.
 */
const IMAGES = ['linkerd2-proxy-init', 'linkerd2-controller', 'linkerd2-web', 'linkerd2-debug', 'linkerd2-proxy-image'];
const TASKS = 10; // five images, four go-cross, one cargo-cross

interface Clone {
  /** The temporary folder the clone and its caches are in. */
  root: string;
  dir: string;
  cacheDir: string;
  /** Whether Nx runs with this clone's own, empty Go caches (goCacheOf) rather than the machine's. */
  ownGoCaches: boolean;
}

/** A clone's own GOCACHE; its GOMODCACHE is beside it. */
function goCacheOf(clone: Clone): string {
  return join(clone.root, 'gocache');
}

const roots: string[] = [];

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * A git clone (committed state, with history for the revision label) at a
 * fresh path: of this checkout's HEAD, or of another clone, so both hold the
 * same commit even when someone commits here in between.
 */
async function gitClone(name: string, depth: number, { source = WORKSPACE_ROOT, ownGoCaches = false } = {}): Promise<Clone> {
  const root = await mkdtemp(join(tmpdir(), `nxm-images-${name}-`));
  roots.push(root);
  const dir = join(root, ...Array.from({ length: depth }, (_, i) => `level${i}`), 'workspace');
  const cloned = await exec('git', ['clone', '--quiet', '--no-hardlinks', source, dir], root);
  if (cloned.code !== 0) throw new Error(`git clone failed: ${cloned.output}`);
  await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { root, dir, cacheDir: join(root, 'nx-cache'), ownGoCaches };
}

async function nx(clone: Clone, args: string[]): Promise<{ code: number; output: string }> {
  // The outer NX_* settings (a developer's cache folder, a remote cache, a daemon) must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_') && key !== 'SOURCE_DATE_EPOCH'));
  Object.assign(env, { ...NX_TEST_ENV, NX_CACHE_DIRECTORY: clone.cacheDir, NX_MULTIARCH_REVISION: REVISION });
  if (clone.ownGoCaches) Object.assign(env, { GOCACHE: goCacheOf(clone), GOMODCACHE: join(clone.root, 'gomodcache') });
  return exec(process.execPath, [join(WORKSPACE_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args, '--outputStyle=static'], clone.dir, env);
}

/** The commit a release build names in its images, through NX_MULTIARCH_REVISION (a cache input). */
const REVISION = '0123456789abcdef0123456789abcdef01234567';

const runArm = (clone: Clone) => nx(clone, ['run-many', '-t', 'docker-arch-build', '--arch=arm', `--exclude=${CACHE_SERVER_IMAGE}`]);

async function summaries(clone: Clone): Promise<Record<string, ImageSummary>> {
  const out: Record<string, ImageSummary> = {};
  for (const project of IMAGES) {
    out[project] = JSON.parse(await readFile(join(clone.dir, 'dist', 'images', project, 'arm', 'image.json'), 'utf8')) as ImageSummary;
  }
  return out;
}

/** sha256 of every file the cross tasks left for arm, by `<project>/<file>`: binaries, packages, checksums. */
async function crossFiles(clone: Clone): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const crossDir = join(clone.dir, 'dist', 'cross');
  for (const project of (await readdir(crossDir)).sort()) {
    const dir = join(crossDir, project, 'arm');
    for (const file of (await readdir(dir)).sort()) out[`${project}/${file}`] = sha256File(join(dir, file));
  }
  return out;
}

let a: Clone;

interface FirstBuild {
  result: { code: number; output: string };
  summaries: Record<string, ImageSummary>;
}
let firstBuild: Promise<FirstBuild> | undefined;

/** The first clone's cold build, run once for every test that needs it. */
function built(): Promise<FirstBuild> {
  firstBuild ??= (async () => {
    const result = await runArm(a);
    if (result.code !== 0) throw new Error(`the first clone's build failed:\n${result.output}`);
    return { result, summaries: await summaries(a) };
  })();
  return firstBuild;
}

beforeAll(async () => {
  if (!existsSync(join(WORKSPACE_ROOT, 'packages', 'nx-multiarch', 'dist', 'executors', 'docker-arch-build', 'executor.js'))) {
    throw new Error('The plugin is not compiled: run npm run build:plugin first.');
  }
  a = await gitClone('a', 0);
}, 120_000);

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

it('builds every image for arm after the binaries each one needs, in graph order', async () => {
  const { result, summaries: first } = await built();
  expect(result.output).toContain('Successfully ran target docker-arch-build for 5 projects');
  expect(result.code).toBe(0);
  const position = (task: string) => result.output.indexOf(`> nx run ${task} --arch=arm`);
  expect(position('linkerd2-proxy:cargo-cross')).toBeGreaterThanOrEqual(0);
  expect(position('linkerd2-proxy-image:docker-arch-build')).toBeGreaterThan(position('linkerd2-proxy:cargo-cross'));
  expect(position('linkerd2-proxy-image:docker-arch-build')).toBeGreaterThan(position('linkerd2-proxy-init:go-cross'));
  expect(position('linkerd2-controller:docker-arch-build')).toBeGreaterThan(position('linkerd2-controller:go-cross'));

  for (const project of IMAGES) {
    const dir = join(a.dir, 'dist', 'images', project, 'arm');
    const { images } = await validateLayout(dir);
    expect(images).toHaveLength(1);
    expect([images[0].config.architecture, images[0].config.variant]).toEqual(['arm', 'v7']);
    expect(first[project]).toMatchObject({ project, arch: 'arm', platform: 'linux/arm/v7', engine: 'native', manifestDigest: images[0].descriptor.digest });
    expect(images[0].config.config?.Labels?.['org.opencontainers.image.revision']).toBe(REVISION);
  }

  // The proxy image holds the proxy from the package and proxy-init, byte for byte.
  const packageDir = join(a.dir, 'dist', 'cross', 'linkerd2-proxy', 'arm');
  const tarball = (await readdir(packageDir)).find((n) => n.endsWith('.tar.gz')) as string;
  // The package as Linkerd releases it: a checksum file that names the tarball and matches it.
  const [hex, named] = (await readFile(join(packageDir, tarball.replace(/\.tar\.gz$/, '.txt')), 'utf8')).trim().split(/\s+/);
  expect([named, hex]).toEqual([tarball, sha256File(join(packageDir, tarball))]);
  const packaged = await readTar(gunzip(await readFile(join(packageDir, tarball))));
  const proxy = packaged.find((e) => e.path.endsWith('/linkerd2-proxy'))?.content as Buffer;
  const files = await imageFiles(join(a.dir, 'dist', 'images', 'linkerd2-proxy-image', 'arm'));
  expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.content?.equals(proxy)).toBe(true);
  expect(files.get('usr/lib/linkerd/LICENSE')).toBeDefined();
  const init = await readFile(join(a.dir, 'dist', 'cross', 'linkerd2-proxy-init', 'arm', 'linkerd2-proxy-init'));
  expect(files.get('usr/lib/linkerd/linkerd2-proxy-init')?.content?.equals(init)).toBe(true);
}, 900_000);

it('does no build work on a warm rerun', async () => {
  const { summaries: first } = await built();
  const result = await runArm(a);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`Nx read the output from the cache instead of running the command for ${TASKS} out of ${TASKS} tasks`);
  for (const project of IMAGES) expect(result.output).toMatch(new RegExp(`> nx run ${project}:docker-arch-build --arch=arm +\\[(local cache|existing outputs match the cache, left as is)\\]`));
  expect(await summaries(a)).toEqual(first);
}, 900_000);

it('restores a deleted dist from the cache, with the same digests', async () => {
  const { summaries: first } = await built();
  await rm(join(a.dir, 'dist'), { recursive: true, force: true });
  const result = await runArm(a);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`for ${TASKS} out of ${TASKS} tasks`);
  expect(await summaries(a)).toEqual(first);
  for (const project of IMAGES) await validateLayout(join(a.dir, 'dist', 'images', project, 'arm'));
}, 900_000);

it('gives the same binaries, proxy package and manifest digests in a second clone at a longer path, compiled there from empty caches', async () => {
  const { summaries: first } = await built();
  const b = await gitClone('b', 3, { source: a.dir, ownGoCaches: true });
  const before = goCacheOutputs(goCacheOf(b));
  const result = await runArm(b);
  expect(result.code).toBe(0);
  expect(result.output).not.toContain('[local cache]');
  // The second clone compiled its Go binaries itself (standard library included) into its own, empty GOCACHE.
  expect(goCacheOutputs(goCacheOf(b)) - before).toBeGreaterThan(20);
  // And its proxy in its own cargo target folder, which the clone did not have.
  expect(existsSync(join(b.dir, '.nx-multiarch', 'cargo-target', 'linkerd2-proxy', 'arm'))).toBe(true);
  const crossA = await crossFiles(a);
  expect(Object.keys(crossA)).toEqual(expect.arrayContaining(['linkerd2-proxy/linkerd2-proxy-v0.1.0-linux-arm.tar.gz', 'linkerd2-proxy/linkerd2-proxy-v0.1.0-linux-arm.txt', 'linkerd2-controller/controller']));
  expect(await crossFiles(b)).toEqual(crossA);
  const second = await summaries(b);
  const differing = IMAGES.filter((project) => second[project].manifestDigest !== first[project].manifestDigest);
  expect(differing).toEqual([]);
}, 900_000);

it('rebuilds every image after a new LABEL around the same files: binaries from the Nx cache, each file layer from the layer cache, as a cold build writes it', async () => {
  const { summaries: first } = await built();
  const dockerfiles = ['linkerd2-proxy-init', 'linkerd2/controller', 'linkerd2/web', 'linkerd2/debug', 'linkerd2/proxy'].map((dir) => join(a.dir, 'packages', dir, 'Dockerfile'));
  const layersOf = async (project: string) => (await validateLayout(join(a.dir, 'dist', 'images', project, 'arm'))).images[0].manifest.layers;
  const before = Object.fromEntries(await Promise.all(IMAGES.map(async (project) => [project, await layersOf(project)] as const)));
  try {
    for (const dockerfile of dockerfiles) await writeFile(dockerfile, `${await readFile(dockerfile, 'utf8')}LABEL org.example.release=rc1\n`);
    const result = await runArm(a);
    expect(result.code).toBe(0);
    expect(result.output).toContain(`Nx read the output from the cache instead of running the command for ${TASKS - IMAGES.length} out of ${TASKS} tasks`);
    for (const project of IMAGES) {
      expect(result.output).toMatch(new RegExp(`${project}: Layer sha256:[0-9a-f]{64}: the same files as a layer built before, so its compressed blob sha256:[0-9a-f]{64} came from the layer cache`));
      const summary = JSON.parse(await readFile(join(a.dir, 'dist', 'images', project, 'arm', 'image.json'), 'utf8')) as ImageSummary;
      expect(summary.manifestDigest).not.toBe(first[project].manifestDigest);
      // The same layers, byte for byte: only the config (its label) and so the manifest are new.
      expect(await layersOf(project)).toEqual(before[project]);
    }
  } finally {
    await exec('git', ['checkout', '--', ...dockerfiles], a.dir);
  }
}, 900_000);
