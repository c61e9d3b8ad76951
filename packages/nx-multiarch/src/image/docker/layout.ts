import { gzipDeterministic } from '../../oci/gzip';
import { sha256Digest } from '../../oci/digest';
import { OciLayoutWriter } from '../../oci/layout';
import { Annotations, Descriptor, ImageManifest, MediaTypes, toPlatform } from '../../oci/types';
import type { PlatformSpec } from '../../platform/platforms';
import { DEFAULT_TAG, type BuildResult } from '../common/engine';
import type { BuiltImage } from '../../oci/docker-archive/read';
import { toOciConfig } from '../../oci/docker-config';
import { checkLayerElfFiles, clampLayerTimes } from './layer-check';

/**
 * Turns the image a daemon built into the same kind of OCI layout the native
 * engine writes: layers with times clamped to SOURCE_DATE_EPOCH and gzipped
 * by the one pinned compressor, a canonical OCI config and manifest, and an
 * index.json entry with the platform and the first tag.
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
 * The index.json entry for the manifest, as the native engine writes it: one
 * descriptor with the platform, named by the first tag (the others live in
 * the summary file), so readers that take `manifests[0]` or `oci:<dir>`
 * without a name find the one image.
 */
export function indexEntry(manifest: Descriptor, platform: PlatformSpec, tags: readonly string[]): Descriptor {
  return { ...manifest, platform: toPlatform(platform.oci), annotations: { [Annotations.refName]: tags[0] ?? DEFAULT_TAG } };
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
  const listed = indexEntry(await writer.writeJsonBlob(manifestDocument, MediaTypes.ociManifest), options.platform, options.tags);
  await writer.writeIndex([listed]);
  return { manifest: listed, config: configDescriptor, layers, elfFiles, clampedEntries };
}
