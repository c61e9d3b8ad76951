import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { pushBase, writeBusyboxBase, type BusyboxBase } from '../support/busybox-base';
import { runNx, type Clone, type NxRun } from '../support/nx-clone';
import { freePort, startRegistry, type RegistryServer } from '../support/registry-server';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';

/**
 * Real `nx run` in a fresh clone: an image FROM a tag of a loopback
 * registry. While the tag stays, a second run is a cache hit; once the tag
 * is moved to another image, the next run builds again (the resolve-bases
 * runtime input changed the hash) and image.json records the new base
 * digest. A mirror that does not answer fails the run with the mirror and
 * the fix named, and leaves nothing in dist/.
 */
jest.setTimeout(600_000);

const ARCH = 'arm64';
let checkout: Checkout;
let clone: Clone;
let registry: RegistryServer;
let v1: BusyboxBase;
let v2: BusyboxBase;

async function write(path: string, text: string): Promise<void> {
  await mkdir(join(clone.dir, path, '..'), { recursive: true });
  await writeFile(join(clone.dir, path), text);
}

const isCacheHit = (result: NxRun) => /\[local cache\]|existing outputs match the cache/.test(result.output);

async function buildProbe(): Promise<NxRun> {
  const result = await runNx(clone, ['run', `base-probe:docker-arch-build--${ARCH}`]);
  if (result.exitCode !== 0) throw new Error(`nx run base-probe failed (exit ${result.exitCode}):\n${result.output.slice(-6000)}`);
  return result;
}

async function probeSummary(): Promise<ImageSummary> {
  return JSON.parse(await readFile(join(clone.dir, 'dist', 'images', 'base-probe', ARCH, 'image.json'), 'utf8')) as ImageSummary;
}

beforeAll(async () => {
  [checkout, registry] = await Promise.all([checkoutRepository(), startRegistry()]);
  clone = await checkout.clone('base-moved');
  v1 = await writeBusyboxBase(join(clone.dir, 'tmp', 'bases', 'v1'), [ARCH]);
  v2 = await writeBusyboxBase(join(clone.dir, 'tmp', 'bases', 'v2'), [ARCH], { label: 'busybox-v2' });
  await pushBase(registry.host, 'probe/base', 'stable', v1);
  await write('packages/base-probe/Dockerfile', `FROM ${registry.host}/probe/base:stable\nCOPY app.txt /srv/app.txt\n`);
  await write('packages/base-probe/app.txt', 'probe\n');
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await checkout?.remove();
});

it('rebuilds when the base tag moves, and records the new base digest in image.json', async () => {
  expect(isCacheHit(await buildProbe())).toBe(false);
  const first = await probeSummary();
  expect(first.base).toEqual({ image: `${registry.host}/probe/base:stable`, source: `${registry.host}/probe/base:stable`, digest: v1.manifests[ARCH]?.digest });
  expect(isCacheHit(await buildProbe())).toBe(true);

  await pushBase(registry.host, 'probe/base', 'stable', v2);
  expect(isCacheHit(await buildProbe())).toBe(false);
  const second = await probeSummary();
  expect(second.base?.digest).toBe(v2.manifests[ARCH]?.digest);
  expect(second.base?.digest).not.toBe(first.base?.digest);
  expect(second.manifestDigest).not.toBe(first.manifestDigest);
});

it('fails with the mirror and the fix named, a non-zero exit and nothing in dist, when the mirror does not answer', async () => {
  const dead = `127.0.0.1:${await freePort()}`;
  await write('packages/mirror-probe/Dockerfile', 'FROM busybox:stable\nCOPY app.txt /srv/app.txt\n');
  await write('packages/mirror-probe/app.txt', 'probe\n');
  await write(
    'packages/mirror-probe/project.json',
    JSON.stringify({ name: 'mirror-probe', targets: { 'docker-arch-build': { options: { registryMirrors: { 'docker.io': [dead] } } } } }),
  );
  const result = await runNx(clone, ['run', `mirror-probe:docker-arch-build--${ARCH}`]);
  expect(result.exitCode).not.toBe(0);
  expect(result.output).toContain(`mirror ${dead} (${dead}/library/busybox:stable): Cannot connect to the registry http://${dead}: connection refused.`);
  expect(result.output).toContain('Start the mirror or fix its address in registryMirrors["docker.io"]');
  expect(existsSync(join(clone.dir, 'dist', 'images', 'mirror-probe'))).toBe(false);
});
