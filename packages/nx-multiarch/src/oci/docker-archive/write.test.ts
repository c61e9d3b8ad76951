import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, readTar } from '../tar';
import { OciLayoutWriter } from '../layout';
import { MediaTypes, type ImageConfig, type ImageManifest } from '../types';
import type { LayoutImage } from '../image-source';
import { dockerArchive } from './write';

describe('docker archive of an OCI layout', () => {
  let scratch: string;
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it("holds Docker's manifest.json pointing at this image's blobs only", async () => {
    scratch = await mkdtemp(join(tmpdir(), 'docker-archive-'));
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    const other = await writer.writeBlob(Buffer.from('another image'), MediaTypes.ociLayerTar);
    const layer = await writer.writeBlob(await createTar([{ path: 'a', type: 'file', content: Buffer.from('a') }], { mtime: 0 }), MediaTypes.ociLayerTar);
    const config: ImageConfig = { architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } };
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [layer] };
    const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    const image: LayoutImage = { layoutDir: scratch, manifestDigest: manifestDescriptor.digest, manifest, config };

    const entries = await readTar(await dockerArchive(image, 'nx-multiarch-test/arm64:abc'));
    const names = entries.filter((e) => e.type === 'file').map((e) => e.path);
    expect(names).toContain('manifest.json');
    expect(names).toContain('index.json');
    expect(names).toContain('oci-layout');
    expect(names).not.toContain(`blobs/sha256/${other.digest.slice(7)}`);
    const dockerManifest = JSON.parse(entries.find((e) => e.path === 'manifest.json')?.content?.toString() ?? '[]');
    expect(dockerManifest).toEqual([
      { Config: `blobs/sha256/${configDescriptor.digest.slice(7)}`, RepoTags: ['nx-multiarch-test/arm64:abc'], Layers: [`blobs/sha256/${layer.digest.slice(7)}`] },
    ]);
    for (const path of [dockerManifest[0].Config, ...dockerManifest[0].Layers]) expect(names).toContain(path);
  });
});
