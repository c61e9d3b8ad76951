import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { readTar } from '../../src/oci/tar';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { validateLayout, WORKSPACE_ROOT } from '../support/oci-schemas';
import { imageFiles } from './helpers';

/**
 * Real Nx on this workspace's own commit: `nx run-many -t docker-arch-build
 * --arch=arm` in a fresh git clone (with its own empty Nx cache) builds the
 * binaries and then every image in graph order, a warm rerun does no build
 * work, deleting dist restores from the cache, and a second clone at another
 * path gives the same digests. Nx and the compiled plugin come from this
 * checkout's node_modules (run `npm run build:plugin` first).
 */
const IMAGES = ['linkerd2-proxy-init', 'linkerd2-controller', 'linkerd2-web', 'linkerd2-debug', 'linkerd2-proxy-image'];
const TASKS = 10; // five images, four go-cross, one cargo-cross

interface Clone {
  dir: string;
  cacheDir: string;
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
async function gitClone(name: string, depth: number, source = WORKSPACE_ROOT): Promise<Clone> {
  const root = await mkdtemp(join(tmpdir(), `nxm-images-${name}-`));
  roots.push(root);
  const dir = join(root, ...Array.from({ length: depth }, (_, i) => `level${i}`), 'workspace');
  const cloned = await exec('git', ['clone', '--quiet', '--no-hardlinks', source, dir], root);
  if (cloned.code !== 0) throw new Error(`git clone failed: ${cloned.output}`);
  await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, cacheDir: join(root, 'nx-cache') };
}

async function nx(clone: Clone, args: string[]): Promise<{ code: number; output: string }> {
  // The outer NX_* settings (a developer's cache folder, a remote cache, a daemon) must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_') && key !== 'SOURCE_DATE_EPOCH'));
  Object.assign(env, { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NX_CACHE_DIRECTORY: clone.cacheDir, NX_MULTIARCH_REVISION: REVISION });
  return exec(process.execPath, [join(WORKSPACE_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args, '--outputStyle=static'], clone.dir, env);
}

/** The commit a release build names in its images, through NX_MULTIARCH_REVISION (a cache input). */
const REVISION = '0123456789abcdef0123456789abcdef01234567';

const runArm = (clone: Clone) => nx(clone, ['run-many', '-t', 'docker-arch-build', '--arch=arm']);

async function summaries(clone: Clone): Promise<Record<string, ImageSummary>> {
  const out: Record<string, ImageSummary> = {};
  for (const project of IMAGES) {
    out[project] = JSON.parse(await readFile(join(clone.dir, 'dist', 'images', project, 'arm', 'image.json'), 'utf8')) as ImageSummary;
  }
  return out;
}

let a: Clone;
let first: Record<string, ImageSummary>;

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
  const result = await runArm(a);
  expect(result.output).toContain('Successfully ran target docker-arch-build for 5 projects');
  expect(result.code).toBe(0);
  const position = (task: string) => result.output.indexOf(`> nx run ${task} --arch=arm`);
  expect(position('linkerd2-proxy:cargo-cross')).toBeGreaterThanOrEqual(0);
  expect(position('linkerd2-proxy-image:docker-arch-build')).toBeGreaterThan(position('linkerd2-proxy:cargo-cross'));
  expect(position('linkerd2-proxy-image:docker-arch-build')).toBeGreaterThan(position('linkerd2-proxy-init:go-cross'));
  expect(position('linkerd2-controller:docker-arch-build')).toBeGreaterThan(position('linkerd2-controller:go-cross'));

  first = await summaries(a);
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
  const packaged = await readTar(gunzip(await readFile(join(packageDir, tarball))));
  const proxy = packaged.find((e) => e.path.endsWith('/linkerd2-proxy'))?.content as Buffer;
  const files = await imageFiles(join(a.dir, 'dist', 'images', 'linkerd2-proxy-image', 'arm'));
  expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.content?.equals(proxy)).toBe(true);
  expect(files.get('usr/lib/linkerd/LICENSE')).toBeDefined();
  const init = await readFile(join(a.dir, 'dist', 'cross', 'linkerd2-proxy-init', 'arm', 'linkerd2-proxy-init'));
  expect(files.get('usr/lib/linkerd/linkerd2-proxy-init')?.content?.equals(init)).toBe(true);
}, 600_000);

it('does no build work on a warm rerun', async () => {
  const result = await runArm(a);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`Nx read the output from the cache instead of running the command for ${TASKS} out of ${TASKS} tasks`);
  for (const project of IMAGES) expect(result.output).toMatch(new RegExp(`> nx run ${project}:docker-arch-build --arch=arm +\\[(local cache|existing outputs match the cache, left as is)\\]`));
  expect(await summaries(a)).toEqual(first);
}, 300_000);

it('restores a deleted dist from the cache, with the same digests', async () => {
  await rm(join(a.dir, 'dist'), { recursive: true, force: true });
  const result = await runArm(a);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`for ${TASKS} out of ${TASKS} tasks`);
  expect(await summaries(a)).toEqual(first);
  for (const project of IMAGES) await validateLayout(join(a.dir, 'dist', 'images', project, 'arm'));
}, 300_000);

it('gives the same manifest digests in a second clone at another path', async () => {
  const b = await gitClone('b', 3, a.dir);
  const result = await runArm(b);
  expect(result.code).toBe(0);
  expect(result.output).not.toContain('[local cache]');
  const second = await summaries(b);
  const differing = IMAGES.filter((project) => second[project].manifestDigest !== first[project].manifestDigest);
  expect(differing).toEqual([]);
}, 600_000);
