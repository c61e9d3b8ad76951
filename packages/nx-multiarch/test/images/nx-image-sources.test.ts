import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { pushBase, writeBusyboxBase, type BusyboxBase } from '../support/busybox-base';
import { runNx, type Clone, type NxRun } from '../support/nx-clone';
import { freePort, startRegistry, type RegistryServer } from '../support/registry-server';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { createReleasePackage } from '../../src/cross/package-tarball';
import { busyboxBinary } from '../support/busybox';
import { imageFiles, PROXY_DOWNLOAD_DOCKERFILE } from './helpers';

/**
 * Real `nx run` in a fresh clone: an image FROM a tag of a loopback
 * registry. While the tag stays, a second run is a cache hit; once the tag
 * is moved to another image, the next run builds again (the resolve-bases
 * runtime input changed the hash) and image.json records the new base
 * digest. A mirror that does not answer fails the run with the mirror and
 * the fix named, and leaves nothing in dist/.
 *
 * In the same clone, an image whose Dockerfile downloads the proxy release
 * (Linkerd's fetch idiom) with a downloads mapping to linkerd2-proxy's
 * cargo-cross: the graph has the edge, each arch variant depends on the
 * proxy build of its arch, and the image is built from the package in
 * dist/cross (placed by the test, run with --excludeTaskDependencies so no
 * Rust build runs here).
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

it('links an image that downloads the proxy release to the proxy build, and builds it from the workspace package', async () => {
  await write('packages/fetch-probe/Dockerfile', PROXY_DOWNLOAD_DOCKERFILE);
  await write(
    'packages/fetch-probe/project.json',
    JSON.stringify({ name: 'fetch-probe', targets: { 'docker-arch-build': { options: { downloads: { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' } } } } }),
  );
  const graph = await runNx(clone, ['graph', '--file=tmp/graph.json']);
  expect(graph.exitCode).toBe(0);
  const { graph: projectGraph } = JSON.parse(await readFile(join(clone.dir, 'tmp', 'graph.json'), 'utf8')) as { graph: { dependencies: Record<string, Array<{ target: string }>> } };
  expect(projectGraph.dependencies['fetch-probe'].map((d) => d.target)).toContain('linkerd2-proxy');

  const shown = await runNx(clone, ['show', 'project', 'fetch-probe', '--json']);
  const targets = (JSON.parse(shown.output.slice(shown.output.indexOf('{'))) as { targets: Record<string, { dependsOn?: unknown[] }> }).targets;
  expect(targets[`docker-arch-build--${ARCH}`].dependsOn).toContainEqual({ projects: ['linkerd2-proxy'], target: `cargo-cross--${ARCH}` });

  const binary = await busyboxBinary('arm64');
  const pkg = await createReleasePackage({ name: 'linkerd2-proxy', version: '0.1.0', arch: ARCH, license: Buffer.from('Apache-2.0\n'), binaries: [{ name: 'linkerd2-proxy', content: binary }], mtime: 0 });
  await write(`dist/cross/linkerd2-proxy/${ARCH}/${pkg.checksumName}`, pkg.checksum);
  await writeFile(join(clone.dir, 'dist', 'cross', 'linkerd2-proxy', ARCH, pkg.tarballName), pkg.tarball);
  const result = await runNx(clone, ['run', `fetch-probe:docker-arch-build--${ARCH}`, '--excludeTaskDependencies']);
  if (result.exitCode !== 0) throw new Error(`nx run fetch-probe failed (exit ${result.exitCode}):\n${result.output.slice(-6000)}`);
  const files = await imageFiles(join(clone.dir, 'dist', 'images', 'fetch-probe', ARCH));
  expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.content?.equals(binary)).toBe(true);
});
