import { gzipDeterministic } from '../archive/gzip';
import { sha256Digest } from '../oci/digest';
import { OciLayoutWriter } from '../oci/layout';
import { Annotations, Descriptor, ImageManifest, MediaTypes, toPlatform } from '../oci/types';
import type { PlatformSpec } from '../platform/platforms';
import type { BuildResult } from './engine';
import type { BuiltImage } from './docker-archive';
import { toOciConfig } from './docker-config';
import { checkLayerElfFiles, clampLayerTimes } from './docker-layer';

/**
 * Turns the image a daemon built into the same kind of OCI layout the native
 * engine writes: layers with times clamped to SOURCE_DATE_EPOCH and gzipped
 * by the one pinned compressor, a canonical OCI config and manifest, and an
 * index.json entry with the platform and the tags.
 */
export interface DockerLayoutOptions {
  platform: PlatformSpec;
  sourceDateEpoch: number;
  tags: readonly string[];
  layoutDir: string;
}

export interface DockerLayoutResult extends BuildResult {
  /** ELF files checked against the arch, over all layers. */
  elfFiles: number;
  /** Tar entries whose times were clamped to SOURCE_DATE_EPOCH. */
  clampedEntries: number;
}

/**
 * index.json entries for one manifest: one per tag (the layout spec's way to
 * give an image several names), or one without a name when there is no tag.
 */
export function indexEntries(manifest: Descriptor, platform: PlatformSpec, tags: readonly string[]): Descriptor[] {
  const base: Descriptor = { ...manifest, platform: toPlatform(platform.oci) };
  if (tags.length === 0) return [base];
  return [...new Set(tags)].map((tag) => ({ ...base, annotations: { [Annotations.refName]: tag } }));
}

export async function writeBuiltImageLayout(image: BuiltImage, options: DockerLayoutOptions): Promise<DockerLayoutResult> {
  // Check and normalise every layer before writing anything, so a refused
  // image leaves no blobs behind.
  let elfFiles = 0;
  let clampedEntries = 0;
  const layerTars: Buffer[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const { tar, clamped } = await clampLayerTimes(layer, options.sourceDateEpoch);
    elfFiles += await checkLayerElfFiles(tar, options.platform, `layer ${i + 1} of ${image.layers.length}`);
    clampedEntries += clamped;
    layerTars.push(tar);
  }
  const config = toOciConfig(
    image.config,
    options.platform,
    layerTars.map((tar) => sha256Digest(tar)),
    options.sourceDateEpoch,
  );

  const writer = new OciLayoutWriter(options.layoutDir);
  await writer.init();
  const layers: Descriptor[] = [];
  for (const tar of layerTars) layers.push(await writer.writeBlob(gzipDeterministic(tar), MediaTypes.ociLayerGzip));
  const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
  const manifestDocument: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: configDescriptor,
    layers,
  };
  const manifest = await writer.writeJsonBlob(manifestDocument, MediaTypes.ociManifest);
  await writer.writeIndex(indexEntries(manifest, options.platform, options.tags));
  return { manifest, config: configDescriptor, layers, elfFiles, clampedEntries };
}
