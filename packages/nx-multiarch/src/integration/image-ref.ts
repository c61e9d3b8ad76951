import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MultiarchError } from '../errors';
import { OciLayoutReader } from '../oci/layout';
import { Descriptor, ImageConfig, ImageIndex, ImageManifest, MediaTypes } from '../oci/types';
import { platformString, type PlatformSpec } from '../platform/platforms';
import type { ImageSummary } from '../image/shared/engine';
import type { ResolvedImage } from './types';

/**
 * Finds the image for one platform in an image folder as docker-arch-build
 * writes it (`dist/images/<project>/<arch>/`: an OCI layout, plus image.json
 * that may point at the layout in a sub-folder), and reads its manifest and
 * config through the verifying layout reader.
 */
export async function layoutDirOf(imageDir: string): Promise<string> {
  try {
    const summary = JSON.parse(await readFile(join(imageDir, 'image.json'), 'utf8')) as Partial<ImageSummary>;
    if (typeof summary.layout === 'string' && summary.layout !== '') return resolve(imageDir, summary.layout);
  } catch {
    // No summary (a layout made by hand or by another tool): the folder is the layout.
  }
  return imageDir;
}

function matchesPlatform(descriptor: Descriptor, platform: PlatformSpec): boolean {
  const p = descriptor.platform;
  if (!p) return false;
  return p.os === platform.oci.os && p.architecture === platform.oci.architecture && (p.variant ?? '') === (platform.oci.variant ?? '');
}

function describe(descriptors: Descriptor[]): string {
  const names = descriptors.map((d) => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : 'no platform'));
  return names.length > 0 ? names.join(', ') : 'no manifests';
}

const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.dockerManifest];

/**
 * The descriptor of the image manifest for `platform`: the one entry that
 * names the platform, or the only manifest when entries carry no platform
 * (the config is checked afterwards either way). Nested indexes are followed.
 */
async function findManifest(reader: OciLayoutReader, index: ImageIndex, platform: PlatformSpec, depth = 0): Promise<Descriptor | undefined> {
  const manifests = index.manifests ?? [];
  const direct = manifests.find((d) => MANIFEST_TYPES.includes(d.mediaType) && matchesPlatform(d, platform));
  if (direct) return direct;
  const unlabelled = manifests.filter((d) => MANIFEST_TYPES.includes(d.mediaType) && !d.platform);
  if (unlabelled.length === 1 && manifests.length === 1) return unlabelled[0];
  if (depth < 2) {
    for (const nested of manifests.filter((d) => INDEX_TYPES.includes(d.mediaType))) {
      const found = await findManifest(reader, await reader.readJson<ImageIndex>(nested.digest), platform, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export async function resolveImage(imageDir: string, platform: PlatformSpec): Promise<ResolvedImage> {
  const layoutDir = await layoutDirOf(imageDir);
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  const descriptor = await findManifest(reader, index, platform);
  if (!descriptor) {
    throw new MultiarchError(
      `The image at ${layoutDir} has no manifest for ${platformString(platform.oci)} (it has: ${describe(index.manifests ?? [])}).`,
      `Build it for this arch: nx run <project>:docker-arch-build --arch=${platform.arch}.`,
    );
  }
  const manifest = await reader.readJson<ImageManifest>(descriptor.digest);
  const config = await reader.readJson<ImageConfig>(manifest.config.digest);
  const variant = config.variant ?? '';
  if (config.os !== platform.oci.os || config.architecture !== platform.oci.architecture || variant !== (platform.oci.variant ?? '')) {
    const said = [config.os, config.architecture, config.variant].filter(Boolean).join('/');
    throw new MultiarchError(
      `The image config at ${layoutDir} says ${said}, not ${platformString(platform.oci)}.`,
      `Rebuild the image with --arch=${platform.arch}; its config and index must name the same platform.`,
    );
  }
  return { layoutDir, manifestDigest: descriptor.digest, manifest, config };
}

/** `<layout>@sha256:<first 12 hex>`, for messages. */
export function imageLabel(image: ResolvedImage): string {
  return `${image.layoutDir}@${image.manifestDigest.slice(0, 19)}`;
}
