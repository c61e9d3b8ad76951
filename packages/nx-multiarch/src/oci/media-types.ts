import { MediaTypes } from './types';

/**
 * The one table of what each media type is: index, image manifest or layer,
 * and how a layer type is spelled in the OCI and the Docker schema 2 formats.
 * A layer's bytes are the same in both formats; only the name differs.
 */
const INDEX_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

export const ociLayerZstd = 'application/vnd.oci.image.layer.v1.tar+zstd';

export type ImageFormat = 'oci' | 'docker';

/** Each layer type this plugin handles, and its name in each format (undefined: the format has none). */
const LAYER_TYPES: Readonly<Record<string, Readonly<Record<ImageFormat, string | undefined>>>> = {
  [MediaTypes.ociLayerGzip]: { oci: MediaTypes.ociLayerGzip, docker: MediaTypes.dockerLayerGzip },
  [MediaTypes.dockerLayerGzip]: { oci: MediaTypes.ociLayerGzip, docker: MediaTypes.dockerLayerGzip },
  [MediaTypes.ociLayerTar]: { oci: MediaTypes.ociLayerTar, docker: undefined },
  [ociLayerZstd]: { oci: ociLayerZstd, docker: undefined },
};

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

/** The layer's media type in `format`, or undefined when that format cannot name it (or it is no known layer type). */
export function layerTypeIn(mediaType: string, format: ImageFormat): string | undefined {
  return LAYER_TYPES[mediaType]?.[format];
}

/** The manifest type of a format. */
export function manifestTypeOf(format: ImageFormat): typeof MediaTypes.ociManifest | typeof MediaTypes.dockerManifest {
  return format === 'oci' ? MediaTypes.ociManifest : MediaTypes.dockerManifest;
}

/** The index type of a format. */
export function indexTypeOf(format: ImageFormat): typeof MediaTypes.ociIndex | typeof MediaTypes.dockerManifestList {
  return format === 'oci' ? MediaTypes.ociIndex : MediaTypes.dockerManifestList;
}

/** The config type of a format. */
export function configTypeOf(format: ImageFormat): typeof MediaTypes.ociConfig | typeof MediaTypes.dockerConfig {
  return format === 'oci' ? MediaTypes.ociConfig : MediaTypes.dockerConfig;
}
