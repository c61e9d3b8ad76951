import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORMS } from '../platform/platforms';
import { ConfigPlatformMismatchError, LayoutImageSource, PlatformNotFoundError, selectImage } from './image-source';
import { OciLayoutWriter } from './layout';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageManifest, type Platform } from './types';

let dir: string;
let writer: OciLayoutWriter;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-source-'));
  writer = new OciLayoutWriter(dir);
  await writer.init();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** An image whose config says `configPlatform`, listed with `label` (or no platform). */
async function image(configPlatform: Platform, label?: Platform): Promise<Descriptor> {
  const config: ImageConfig = { ...configPlatform, rootfs: { type: 'layers', diff_ids: [] } };
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: await writer.writeJsonBlob(config, MediaTypes.ociConfig), layers: [] };
  const descriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
  return label ? { ...descriptor, platform: label } : descriptor;
}

const armNoVariant = { os: 'linux', architecture: 'arm' };
const arm64v8 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const amd64 = { os: 'linux', architecture: 'amd64' };

describe('selectImage', () => {
  it('matches index labels by the one platform rule (arm = arm/v7, arm64/v8 = arm64)', async () => {
    const arm = await image(armNoVariant, armNoVariant);
    const arm64 = await image(arm64v8, arm64v8);
    const source = new LayoutImageSource(dir);
    expect((await selectImage(source, [arm64, arm], PLATFORMS.arm.oci)).descriptor.digest).toBe(arm.digest);
    expect((await selectImage(source, [arm64, arm], PLATFORMS.arm64.oci)).descriptor.digest).toBe(arm64.digest);
  });

  it('tries unlabelled entries by their config, and follows nested indexes', async () => {
    const unlabelledAmd64 = await image(amd64);
    const unlabelledArm64 = await image(arm64v8);
    const nested = await writer.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [unlabelledArm64] }, MediaTypes.ociIndex);
    const selected = await selectImage(new LayoutImageSource(dir), [unlabelledAmd64, nested], PLATFORMS.arm64.oci);
    expect(selected.descriptor.digest).toBe(unlabelledArm64.digest);
    expect(selected.config.architecture).toBe('arm64');
  });

  it('says which platforms there are when the wanted one is missing', async () => {
    const entries = [await image(amd64, amd64), await image(armNoVariant)];
    const error = await selectImage(new LayoutImageSource(dir, 'the test image'), entries, PLATFORMS.s390x.oci).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformNotFoundError);
    expect((error as PlatformNotFoundError).available).toEqual(['linux/amd64', 'linux/arm']);
    expect((error as Error).message).toBe('the test image has no image for linux/s390x; it has linux/amd64, linux/arm.');
  });

  it('refuses an entry whose config names another platform than its label', async () => {
    const lying = await image(amd64, arm64v8);
    await expect(selectImage(new LayoutImageSource(dir), [lying], PLATFORMS.arm64.oci)).rejects.toBeInstanceOf(ConfigPlatformMismatchError);
  });
});
