import { existsSync } from 'node:fs';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../../src/oci/digest';
import { blobPath } from '../../src/oci/layout';
import type { Descriptor, ImageManifest } from '../../src/oci/types';
import { PLATFORMS, type Arch } from '../../src/platform/platforms';
import { pushBase, writeBusyboxBase, type BusyboxBase } from '../support/busybox-base';
import { validateLayout } from '../support/oci-schemas';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { build, cleanUpTemp, imageFiles, skopeoInspect, tempDir, tool, writeFiles } from './helpers';

/**
 * The native engine over a real multi-arch base, made here from Debian's
 * busybox-static for amd64, arm64 and armhf: FROM an OCI layout (flat and
 * nested index), FROM a loopback registry (index resolved by platform, blobs
 * checked and cached), a base without the wanted platform, corrupted blobs.
 */
const ARCHES: Arch[] = ['amd64', 'arm64', 'arm'];

const DOCKERFILE = `ARG BASE
FROM \${BASE}
ARG TARGETARCH
COPY app.txt /srv/app.txt
COPY --chown=1000:1000 data/ /tmp/data/
ENV APP=demo-\${TARGETARCH}
CMD ["/bin/sh", "-c", "cat /srv/app.txt"]
`;

let workspace: string;
let base: BusyboxBase;
let registry: RegistryServer;
let blobCache: string;
let registryBase: string;

beforeAll(async () => {
  workspace = join(await tempDir('base-ws'), 'ws');
  await writeFiles(workspace, {
    'packages/demo/Dockerfile': DOCKERFILE,
    'packages/demo/app.txt': 'app\n',
    'packages/demo/data/seed.txt': 'seed\n',
  });
  base = await writeBusyboxBase(join(workspace, 'bases', 'busybox'), ARCHES);
  await writeBusyboxBase(join(workspace, 'bases', 'busybox-nested'), ARCHES, { nested: true });
  registry = await startRegistry();
  await pushBase(registry.host, 'base/busybox', 'stable', base);
  registryBase = `${registry.host}/base/busybox:stable`;
  blobCache = join(await tempDir('blob-cache'), 'cache');
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await cleanUpTemp();
});

function manifestLayers(manifest: ImageManifest): string[] {
  return manifest.layers.map((l) => l.digest);
}

async function baseManifest(arch: Arch): Promise<ImageManifest> {
  const descriptor = base.manifests[arch] as Descriptor;
  return JSON.parse(await readFile(blobPath(base.layoutDir, descriptor.digest), 'utf8')) as ImageManifest;
}

describe.each(ARCHES)('FROM a multi-arch busybox base, for %s', (arch) => {
  it('stacks one layer on the base layout, keeping the base layer, config and folder modes', async () => {
    const { outputDir, summary } = await build(workspace, arch, { buildArgs: { BASE: 'oci-layout://bases/busybox' }, blobCacheDir: blobCache });
    const { images } = await validateLayout(outputDir);
    const [{ manifest, config, descriptor }] = images;
    const baseImage = await baseManifest(arch);
    expect(manifestLayers(manifest).slice(0, 1)).toEqual(manifestLayers(baseImage));
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.annotations).toEqual({ 'org.opencontainers.image.base.digest': base.manifests[arch]?.digest });
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect([config.architecture, config.variant]).toEqual([PLATFORMS[arch].oci.architecture, PLATFORMS[arch].oci.variant]);
    expect(config.config?.Env).toEqual(['PATH=/bin', 'BASE=busybox', `APP=demo-${PLATFORMS[arch].oci.architecture}`]);
    expect(config.config?.Cmd).toEqual(['/bin/sh', '-c', 'cat /srv/app.txt']);
    expect(config.config?.Labels?.['test.base']).toBe('busybox');
    expect(config.history?.[0].created_by).toBe('busybox-static from Debian');
    expect(config.history?.filter((h) => !h.empty_layer)).toHaveLength(2);
    expect(summary.layers).toBe(2);
    expect(descriptor.digest).toBe(summary.manifestDigest);

    const files = await imageFiles(outputDir);
    expect(files.get('bin/busybox')?.content?.equals(base.binaries[arch] as Buffer)).toBe(true);
    expect(files.get('srv/app.txt')?.content?.toString()).toBe('app\n');
    // The new layer has no tmp/ entry, so the base's sticky, world-writable tmp/ stays.
    expect(files.get('tmp')?.mode).toBe(0o1777);
    expect(files.get('tmp/data/seed.txt')).toBeDefined();

    const inspected = await skopeoInspect(outputDir);
    expect(inspected.Layers).toEqual(manifestLayers(manifest));
    expect(inspected.Architecture).toBe(PLATFORMS[arch].oci.architecture);
  });

  it('gives the same image FROM a layout whose index.json points at a nested index', async () => {
    const flat = await build(workspace, arch, { buildArgs: { BASE: 'oci-layout://bases/busybox' } });
    const nested = await build(workspace, arch, { buildArgs: { BASE: 'oci-layout://bases/busybox-nested:latest' } });
    expect(nested.summary.manifestDigest).toBe(flat.summary.manifestDigest);
  });

  it('pulls the base from a loopback registry by platform, with the same layers and config as from the layout', async () => {
    const fromLayout = await build(workspace, arch, { buildArgs: { BASE: 'oci-layout://bases/busybox' } });
    const { outputDir, summary } = await build(workspace, arch, { buildArgs: { BASE: registryBase }, blobCacheDir: blobCache });
    const { images } = await validateLayout(outputDir);
    const [{ manifest }] = images;
    expect(manifestLayers(manifest).slice(0, 1)).toEqual(manifestLayers(await baseManifest(arch)));
    expect(summary.configDigest).toBe(fromLayout.summary.configDigest);
    expect(manifest.annotations).toEqual({
      'org.opencontainers.image.base.digest': base.manifests[arch]?.digest,
      'org.opencontainers.image.base.name': registryBase,
    });
    // The base layer and config are now in the content-addressed cache.
    const cached = await readdir(join(blobCache, 'sha256'));
    expect(cached).toEqual(expect.arrayContaining([digestHex(manifest.layers[0].digest), digestHex((await baseManifest(arch)).config.digest)]));
    expect((await tool('umoci', ['ls', '--layout', outputDir])).trim()).toBe('latest');
  });
});

describe('base problems are clear errors with nothing in dist', () => {
  const out = (arch: string) => join(workspace, 'dist', 'images', 'demo', arch);

  async function failure(arch: string, buildArgs: Record<string, string>, cacheDir = blobCache): Promise<Error & { hint?: string }> {
    await build(workspace, arch === 's390x' ? 'arm64' : arch, { buildArgs: { BASE: 'oci-layout://bases/busybox' } });
    const error = await build(workspace, arch, { buildArgs, blobCacheDir: cacheDir }).then(
      () => undefined,
      (e: Error & { hint?: string }) => e,
    );
    expect(error).toBeDefined();
    expect(existsSync(out(arch))).toBe(false);
    return error as Error & { hint?: string };
  }

  it('names the platforms a layout base has when the wanted one is missing', async () => {
    const error = await failure('s390x', { BASE: 'oci-layout://bases/busybox' });
    expect(error.message).toBe(
      'Base image oci-layout://bases/busybox has no image for linux/s390x; it has linux/amd64, linux/arm64, linux/arm/v7.',
    );
  });

  it('names the platforms a registry base has when the wanted one is missing', async () => {
    const error = await failure('s390x', { BASE: registryBase });
    expect(error.message).toContain(`Base image ${registryBase} has no image for linux/s390x; it has linux/amd64, linux/arm64, linux/arm/v7.`);
  });

  it('refuses a base layout with a corrupted layer blob', async () => {
    const broken = join(workspace, 'bases', 'broken');
    await cp(base.layoutDir, broken, { recursive: true });
    const layer = (await baseManifest('arm')).layers[0];
    const bytes = await readFile(blobPath(broken, layer.digest));
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(blobPath(broken, layer.digest), bytes);
    const error = await failure('arm', { BASE: 'oci-layout://bases/broken' });
    expect(error.message).toMatch(new RegExp(`Base image oci-layout://bases/broken: blob ${layer.digest} does not match its digest`));
  });

  it('refuses a missing layout, saying where it looked', async () => {
    const error = await failure('arm', { BASE: 'oci-layout://bases/none' });
    expect(error.message).toMatch(/no OCI image layout \(index.json\) at bases\/none, looked in .*packages\/demo\/bases\/none and .*\/ws\/bases\/none/);
  });

  it('fetches again a cached blob that went bad, and succeeds', async () => {
    const layer = (await baseManifest('arm64')).layers[0];
    const cachedFile = join(blobCache, 'sha256', digestHex(layer.digest));
    await build(workspace, 'arm64', { buildArgs: { BASE: registryBase }, blobCacheDir: blobCache });
    await writeFile(cachedFile, 'garbage');
    const { outputDir } = await build(workspace, 'arm64', { buildArgs: { BASE: registryBase }, blobCacheDir: blobCache });
    await validateLayout(outputDir);
    expect((await readFile(cachedFile)).length).toBe(layer.size);
  });

  it('refuses a blob the registry serves corrupted (checked against its digest)', async () => {
    const layer = (await baseManifest('amd64')).layers[0];
    const hex = digestHex(layer.digest);
    const data = join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(data);
    bytes[100] ^= 0xff;
    await writeFile(data, bytes);
    const freshCache = join(await tempDir('fresh-cache'), 'cache');
    const error = await failure('amd64', { BASE: registryBase }, freshCache);
    expect(error.message).toMatch(new RegExp(`${layer.digest}.*does not match its digest`));
    expect(existsSync(join(freshCache, 'sha256', hex))).toBe(false);
  });
});
