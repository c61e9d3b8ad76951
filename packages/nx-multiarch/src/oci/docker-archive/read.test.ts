import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveEntry, createTar } from '../tar';
import { gzipDeterministic } from '../gzip';
import { canonicalJson } from '../canonical-json';
import { sha256Digest } from '../digest';
import { Descriptor, MediaTypes } from '../types';
import { PLATFORMS } from '../../platform/platforms';
import { readBuiltImageArchive } from './read';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-docker-archive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const layerA = Buffer.from('layer A tar bytes');
const layerB = Buffer.from('layer B tar bytes');

async function archive(entries: ArchiveEntry[]): Promise<string> {
  const path = join(dir, 'image.tar');
  await writeFile(path, await createTar(entries, { mtime: 0 }));
  return path;
}

function file(path: string, content: Buffer | string): ArchiveEntry {
  return { path, type: 'file', content: Buffer.isBuffer(content) ? content : Buffer.from(content) };
}

describe('docker save archives', () => {
  it('reads the config and the layers in order, following the symlink docker writes for a repeated layer', async () => {
    const config = { architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layerA), sha256Digest(layerB), sha256Digest(layerA)] } };
    const path = await archive([
      file('manifest.json', JSON.stringify([{ Config: 'cfg.json', RepoTags: ['t:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar'] }])),
      file('cfg.json', JSON.stringify(config)),
      file('aaa/layer.tar', layerA),
      file('bbb/layer.tar', gzipDeterministic(layerB)),
      { path: 'ccc/layer.tar', type: 'symlink', linkTarget: '../aaa/layer.tar' },
    ]);
    const image = await readBuiltImageArchive(path, PLATFORMS.arm64.oci);
    expect(image.config).toEqual(config);
    expect(image.layers.map((l) => l.toString())).toEqual(['layer A tar bytes', 'layer B tar bytes', 'layer A tar bytes']);
  });

  it('refuses an archive with several images or none it understands', async () => {
    const two = await archive([file('manifest.json', JSON.stringify([{ Config: 'a', RepoTags: [], Layers: [] }, { Config: 'b', RepoTags: [], Layers: [] }]))]);
    await expect(readBuiltImageArchive(two, PLATFORMS.arm64.oci)).rejects.toThrow(/holds 2 images; expected exactly one/);
    const neither = await archive([file('something.txt', 'x')]);
    await expect(readBuiltImageArchive(neither, PLATFORMS.arm64.oci)).rejects.toThrow(/neither manifest.json \(docker save\) nor index.json \(OCI\)/);
  });
});

describe('buildx OCI archives', () => {
  function blob(data: Buffer | string, mediaType: string, extra: Partial<Descriptor> = {}): { entry: ArchiveEntry; descriptor: Descriptor } {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const digest = sha256Digest(bytes);
    return { entry: file(`blobs/sha256/${digest.slice(7)}`, bytes), descriptor: { mediaType, digest, size: bytes.length, ...extra } };
  }

  /** buildx 0.10+: index.json → image index → [image manifest, attestation manifest]. */
  async function buildxArchive(corruptLayer = false) {
    const config = blob(canonicalJson({ architecture: 'arm', variant: 'v7', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layerA)] } }), MediaTypes.ociConfig);
    const layer = blob(gzipDeterministic(layerA), MediaTypes.ociLayerGzip);
    const manifest = blob(canonicalJson({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: config.descriptor, layers: [layer.descriptor] }), MediaTypes.ociManifest, {
      platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
    });
    const attestation = blob(canonicalJson({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: config.descriptor, layers: [] }), MediaTypes.ociManifest, {
      platform: { architecture: 'unknown', os: 'unknown' },
    });
    const inner = blob(canonicalJson({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [attestation.descriptor, manifest.descriptor] }), MediaTypes.ociIndex);
    const layerEntry = corruptLayer ? { ...layer.entry, content: gzipDeterministic(layerB) } : layer.entry;
    return archive([
      file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
      file('index.json', canonicalJson({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [inner.descriptor] })),
      config.entry,
      layerEntry,
      manifest.entry,
      attestation.entry,
      inner.entry,
    ]);
  }

  it('finds the image for the platform below a nested index, past the attestation manifest', async () => {
    const image = await readBuiltImageArchive(await buildxArchive(), PLATFORMS.arm.oci);
    expect(image.config).toMatchObject({ architecture: 'arm', variant: 'v7' });
    expect(image.layers.map((l) => l.toString())).toEqual(['layer A tar bytes']);
  });

  it('says which platform is missing', async () => {
    await expect(readBuiltImageArchive(await buildxArchive(), PLATFORMS.arm64.oci)).rejects.toThrow(/has no image for linux\/arm64/);
  });

  it('checks every blob against its digest', async () => {
    await expect(readBuiltImageArchive(await buildxArchive(true), PLATFORMS.arm.oci)).rejects.toThrow(/content does not match its digest/);
  });
});
