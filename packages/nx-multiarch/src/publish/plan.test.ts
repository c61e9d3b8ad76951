import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import { Descriptor, ImageIndex, ImageManifest, MediaTypes, toPlatform } from '../oci/types';
import { Arch, PLATFORMS } from '../platform';
import type { ArchImage } from './load-images';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../registry/client';
import { startPermissiveRegistry } from '../../test/support/permissive-registry';
import { pushOrderViolations, writeSequence } from '../../test/support/push-order';
import { startRecordingProxy } from '../../test/support/recording-proxy';
import { writeTestImages } from '../../test/support/test-images';
import { executePush } from './execute';
import { loadArchImages } from './load-images';
import { convertManifest, planPush, PlanOptions, totalBlobBytes } from './plan';

function blob(name: string, mediaType: string, size: number): Descriptor {
  return { mediaType, digest: sha256Digest(name), size };
}

const base = blob('base', MediaTypes.ociLayerGzip, 1000);

function image(arch: Arch, extra: Partial<ImageManifest> = {}): ArchImage {
  const config = blob(`config-${arch}`, MediaTypes.ociConfig, 100);
  const app = blob(`app-${arch}`, MediaTypes.ociLayerGzip, 500);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [base, app], ...extra };
  return {
    arch,
    platform: toPlatform(PLATFORMS[arch].oci),
    layoutDir: `/layouts/${arch}`,
    manifestBody: Buffer.from(canonicalJson(manifest)),
    manifest,
    blobFiles: Object.fromEntries([config, base, app].map((d) => [d.digest, `/layouts/${arch}/blobs/${d.digest.slice(7)}`])),
  };
}

const options: PlanOptions = { repository: 'linkerd/proxy', tags: ['2.14.0', 'latest'], perArchTags: false, format: 'oci', annotations: {} };
const images = [image('amd64'), image('arm64'), image('arm')];

describe('planPush', () => {
  it('lists each blob once, with the arches that use it', () => {
    const plan = planPush(images, options);
    expect(plan.blobs).toHaveLength(7);
    expect(plan.blobs.find((b) => b.digest === base.digest)?.arches).toEqual(['amd64', 'arm64', 'arm']);
    expect(totalBlobBytes(plan)).toBe(1000 + 3 * 600);
  });

  it('keeps OCI manifests byte for byte, so digests stay the build’s', () => {
    const plan = planPush(images, options);
    plan.manifests.forEach((m, i) => {
      expect(m.body.equals(images[i].manifestBody)).toBe(true);
      expect(m.digest).toBe(sha256Digest(images[i].manifestBody));
    });
  });

  it('builds one OCI index with each platform (arm/v7 keeps its variant), tagged with every tag', () => {
    const plan = planPush(images, { ...options, annotations: { 'org.opencontainers.image.source': 'https://x' } });
    const index = JSON.parse(plan.index.body.toString()) as ImageIndex;
    expect(index.mediaType).toBe(MediaTypes.ociIndex);
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    expect(index.manifests.map((m) => m.digest)).toEqual(plan.manifests.map((m) => m.digest));
    expect(index.manifests.map((m) => m.size)).toEqual(plan.manifests.map((m) => m.body.length));
    expect(index.annotations).toEqual({ 'org.opencontainers.image.source': 'https://x' });
    expect(plan.index.digest).toBe(sha256Digest(plan.index.body));
    expect(plan.index.tags).toEqual(['2.14.0', 'latest']);
  });

  it('is deterministic: the same input gives the same bytes', () => {
    const a = planPush(images, options);
    const b = planPush([image('amd64'), image('arm64'), image('arm')], options);
    expect(a.index.body.equals(b.index.body)).toBe(true);
  });

  it('adds <tag>-<arch> tags only when asked, and checks their length', () => {
    expect(planPush(images, options).manifests[2].tags).toEqual([]);
    expect(planPush(images, { ...options, perArchTags: true }).manifests[2].tags).toEqual(['2.14.0-arm', 'latest-arm']);
    expect(() => planPush(images, { ...options, tags: ['a'.repeat(125)], perArchTags: true })).toThrow(/at most 128/);
  });

  it('converts to Docker media types throughout for a Docker manifest list, never mixing', () => {
    const plan = planPush(images, { ...options, format: 'docker', annotations: { a: 'b' } });
    const list = JSON.parse(plan.index.body.toString()) as ImageIndex;
    expect(list.mediaType).toBe(MediaTypes.dockerManifestList);
    expect(list.annotations).toBeUndefined();
    expect(plan.notes.join()).toMatch(/annotations are not written/);
    for (const m of plan.manifests) {
      const doc = JSON.parse(m.body.toString()) as ImageManifest;
      expect(doc.mediaType).toBe(MediaTypes.dockerManifest);
      expect(doc.config.mediaType).toBe(MediaTypes.dockerConfig);
      expect(doc.layers.map((l) => l.mediaType)).toEqual([MediaTypes.dockerLayerGzip, MediaTypes.dockerLayerGzip]);
      expect(list.manifests.find((c) => c.digest === m.digest)?.mediaType).toBe(MediaTypes.dockerManifest);
    }
    // Blobs are the same bytes in both formats; only manifests change.
    expect(plan.blobs.map((b) => b.digest)).toEqual(planPush(images, options).blobs.map((b) => b.digest));
    expect(plan.manifests[0].digest).not.toBe(planPush(images, options).manifests[0].digest);
  });

  it('converts a Docker manifest to OCI for an OCI index', () => {
    const docker = convertManifest(image('arm64'), 'docker');
    const dockerManifest = JSON.parse(docker.body.toString()) as ImageManifest;
    const back = convertManifest({ ...image('arm64'), manifest: dockerManifest, manifestBody: docker.body }, 'oci');
    expect(back.body.equals(image('arm64').manifestBody)).toBe(true);
  });

  it('refuses layers a Docker manifest cannot carry', () => {
    const tarLayer = image('amd64');
    tarLayer.manifest = { ...tarLayer.manifest, layers: [blob('raw', MediaTypes.ociLayerTar, 10)] };
    expect(() => convertManifest(tarLayer, 'docker')).toThrow(/cannot carry/);
  });

  it('refuses an empty arch list or tag list', () => {
    expect(() => planPush([], options)).toThrow(/no arches/);
    expect(() => planPush(images, { ...options, tags: [] })).toThrow(/no tags/);
  });

  it('is pushed blobs first, then the manifests by digest, then their per-arch tags, and the index tags last', async () => {
    // A registry that accepts out-of-order writes, so only the push's own order is tested; a proxy records the requests.
    const workspace = await mkdtemp(join(tmpdir(), 'nxm-plan-order-'));
    const registry = await startPermissiveRegistry();
    const proxy = await startRecordingProxy(registry.port);
    const client = new RegistryClient({ registry: proxy.host, auth: 'anonymous' });
    try {
      await writeTestImages(workspace, 'app', ['amd64', 'arm64', 'arm'], { appLayerBytes: 20_000, baseLayerBytes: 10_000 });
      const plan = planPush(await loadArchImages(workspace, 'app', ['amd64', 'arm64', 'arm']), { ...options, perArchTags: true });
      await executePush(client, plan, { concurrency: 3, mountFrom: [], verify: false, log: () => undefined });
      const writes = writeSequence(proxy.requests);
      const manifestsFrom = writes.indexOf('manifest by digest');
      expect(manifestsFrom).toBeGreaterThan(0);
      expect(writes.slice(0, manifestsFrom).filter((w) => !w.startsWith('blob'))).toEqual([]);
      expect(writes.slice(manifestsFrom)).toEqual([
        ...Array(3).fill('manifest by digest'),
        ...['amd64', 'arm64', 'arm'].flatMap((arch) => [`manifest tag 2.14.0-${arch}`, `manifest tag latest-${arch}`]),
        'index tag 2.14.0',
        'index tag latest',
      ]);
      expect(pushOrderViolations(proxy.requests)).toEqual([]);
    } finally {
      client.close();
      await proxy.stop();
      await registry.stop();
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
