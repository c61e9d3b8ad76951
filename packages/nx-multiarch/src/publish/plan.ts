import { MultiarchError } from '../errors';
import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import { configTypeOf, indexTypeOf, layerTypeIn, manifestTypeOf, type ImageFormat } from '../oci/media-types';
import { Descriptor, Digest, ImageIndex, ImageManifest, MediaTypes, Platform } from '../oci/types';
import type { Arch } from '../platform';
import { validateTag } from '../registry/reference';
import type { ArchImage } from './load-images';

/**
 * What a push does, decided before any request: which blobs, which per-arch
 * manifests (converted to the chosen format), which index, under which tags.
 * Pure: the same images and options give the same plan, byte for byte.
 */

/** The format a push writes: the OCI one or Docker schema 2. */
export type PushFormat = ImageFormat;

export interface PlanOptions {
  repository: string;
  tags: readonly string[];
  /** Also tag each arch's manifest `<tag>-<arch>`. */
  perArchTags: boolean;
  format: PushFormat;
  /** Annotations of the index (OCI format only). */
  annotations: Readonly<Record<string, string>>;
}

export interface PlannedBlob {
  digest: Digest;
  size: number;
  mediaType: string;
  /** The file the bytes are read from. */
  path: string;
  /** Arches whose images use it (shared base layers appear once). */
  arches: Arch[];
}

export interface PlannedManifest {
  arch: Arch;
  platform: Platform;
  digest: Digest;
  mediaType: string;
  body: Buffer;
  /** `<tag>-<arch>` tags, when asked for. */
  tags: string[];
}

export interface PlannedIndex {
  digest: Digest;
  mediaType: string;
  body: Buffer;
  tags: string[];
}

export interface PushPlan {
  repository: string;
  format: PushFormat;
  blobs: PlannedBlob[];
  manifests: PlannedManifest[];
  index: PlannedIndex;
  /** Things the user should know (e.g. annotations a Docker list cannot carry). */
  notes: string[];
}

/**
 * The manifest in the push format. An image already in that format is kept
 * byte for byte (its digest stays the build's); otherwise the manifest,
 * config and layer media types are rewritten, which gives a new digest. Blobs
 * themselves never change: a layer's bytes are the same in both formats.
 */
export function convertManifest(image: ArchImage, format: PushFormat): { body: Buffer; mediaType: string } {
  const source = image.manifest;
  const target = manifestTypeOf(format);
  if (source.mediaType === target) return { body: image.manifestBody, mediaType: target };
  const layers = source.layers.map((layer) => {
    const mediaType = layerTypeIn(layer.mediaType, format);
    if (!mediaType) {
      throw new MultiarchError(
        `The ${image.arch} image has a layer of type ${layer.mediaType}, which a ${format === 'oci' ? 'OCI' : 'Docker'} manifest cannot carry.`,
        format === 'docker' ? 'Push with mediaType "oci", or build gzip-compressed layers.' : 'Rebuild the image with the native or docker engine.',
      );
    }
    return { mediaType, digest: layer.digest, size: layer.size };
  });
  const config = { mediaType: configTypeOf(format), digest: source.config.digest, size: source.config.size };
  // Docker schema 2 has no annotations; OCI keeps those the build wrote.
  const converted: ImageManifest =
    format === 'oci'
      ? { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers, ...(source.annotations ? { annotations: source.annotations } : {}) }
      : { schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config, layers };
  return { body: Buffer.from(canonicalJson(converted)), mediaType: target };
}

/** `<tag>-<arch>`, validated: a long tag may become too long with the suffix. */
function archTag(tag: string, arch: Arch): string {
  return validateTag(`${tag}-${arch}`);
}

export function planPush(images: readonly ArchImage[], options: PlanOptions): PushPlan {
  if (images.length === 0) throw new MultiarchError('Nothing to push: no arches selected.', 'Pass --arches=amd64,arm64,arm.');
  if (options.tags.length === 0) throw new MultiarchError('Nothing to tag: no tags given.', 'Pass --tags=<tag>[,<tag>…].');
  const notes: string[] = [];

  const blobs = new Map<Digest, PlannedBlob>();
  for (const image of images) {
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      const known = blobs.get(blob.digest);
      if (known) {
        if (!known.arches.includes(image.arch)) known.arches.push(image.arch);
        continue;
      }
      const path = image.blobFiles[blob.digest];
      if (!path) throw new MultiarchError(`Blob ${blob.digest} of the ${image.arch} image has no file in its layout.`);
      blobs.set(blob.digest, { digest: blob.digest, size: blob.size, mediaType: blob.mediaType, path, arches: [image.arch] });
    }
  }

  const manifests: PlannedManifest[] = images.map((image) => {
    const { body, mediaType } = convertManifest(image, options.format);
    return {
      arch: image.arch,
      platform: image.platform,
      digest: sha256Digest(body),
      mediaType,
      body,
      tags: options.perArchTags ? options.tags.map((t) => archTag(t, image.arch)) : [],
    };
  });

  const children: Descriptor[] = manifests.map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.body.length, platform: m.platform }));
  const hasAnnotations = Object.keys(options.annotations).length > 0;
  if (options.format === 'docker' && hasAnnotations) {
    notes.push('annotations are not written: a Docker manifest list has no annotations (use mediaType "oci" to keep them)');
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: indexTypeOf(options.format),
    manifests: children,
    ...(options.format === 'oci' && hasAnnotations ? { annotations: { ...options.annotations } } : {}),
  };
  const indexBody = Buffer.from(canonicalJson(index));
  return {
    repository: options.repository,
    format: options.format,
    blobs: [...blobs.values()],
    manifests,
    index: { digest: sha256Digest(indexBody), mediaType: index.mediaType, body: indexBody, tags: [...options.tags] },
    notes,
  };
}

export function totalBlobBytes(plan: PushPlan): number {
  return plan.blobs.reduce((sum, b) => sum + b.size, 0);
}
