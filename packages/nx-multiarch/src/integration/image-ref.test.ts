import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../oci/layout';
import { MediaTypes, toPlatform, type Descriptor, type ImageConfig, type ImageManifest } from '../oci/types';
import { PLATFORMS, type Arch } from '../platform/platforms';
import { resolveImage } from './image-ref';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'image-ref-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

async function manifestFor(writer: OciLayoutWriter, arch: Arch, configArch: Arch = arch): Promise<Descriptor> {
  const config: ImageConfig = { ...toPlatform(PLATFORMS[configArch].oci), rootfs: { type: 'layers', diff_ids: [] } };
  const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [] };
  return { ...(await writer.writeJsonBlob(manifest, MediaTypes.ociManifest)), platform: toPlatform(PLATFORMS[arch].oci) };
}

describe('resolveImage', () => {
  it('picks the manifest of the platform from a multi-platform layout', async () => {
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    const arm64 = await manifestFor(writer, 'arm64');
    const arm = await manifestFor(writer, 'arm');
    await writer.writeIndex([arm64, arm]);
    expect((await resolveImage(scratch, PLATFORMS.arm)).manifestDigest).toBe(arm.digest);
    expect((await resolveImage(scratch, PLATFORMS.arm64)).config.architecture).toBe('arm64');
  });

  it('follows a nested index', async () => {
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    const arm = await manifestFor(writer, 'arm');
    const nested = await writer.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [arm] }, MediaTypes.ociIndex);
    await writer.writeIndex([nested]);
    expect((await resolveImage(scratch, PLATFORMS.arm)).manifestDigest).toBe(arm.digest);
  });

  it('names the platforms a layout has when the wanted one is missing', async () => {
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    await writer.writeIndex([await manifestFor(writer, 'amd64'), await manifestFor(writer, 'arm')]);
    await expect(resolveImage(scratch, PLATFORMS.arm64)).rejects.toThrow(`The image at ${scratch} has no manifest for linux/arm64 (it has: linux/amd64, linux/arm/v7).`);
  });

  it('refuses a config whose platform disagrees with its index entry', async () => {
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    await writer.writeIndex([await manifestFor(writer, 'arm64', 'amd64')]);
    await expect(resolveImage(scratch, PLATFORMS.arm64)).rejects.toThrow(/config .* says linux\/amd64, not linux\/arm64/);
  });

  it('says how to build a missing image', async () => {
    await expect(resolveImage(join(scratch, 'absent'), PLATFORMS.arm64)).rejects.toThrow(/No OCI image layout/);
  });
});
