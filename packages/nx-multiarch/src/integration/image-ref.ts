import { MultiarchError } from '../errors';
import { ConfigPlatformMismatchError, LayoutImageSource, PlatformNotFoundError, selectImage } from '../oci/image-source';
import { platformString, type PlatformSpec } from '../platform/platforms';
import { layoutDirOf } from '../outputs/image-summary';
import type { ResolvedImage } from './types';

/**
 * Finds the image for one platform in an image folder as docker-arch-build
 * writes it (`dist/images/<project>/<arch>/`: an OCI layout, plus image.json
 * that may point at the layout in a sub-folder) and reads its manifest and
 * config: the one index walk of oci/image-source (nested indexes followed,
 * the config's platform checked against the index), in the words of a test run.
 */
export async function resolveImage(imageDir: string, platform: PlatformSpec): Promise<ResolvedImage> {
  const layoutDir = await layoutDirOf(imageDir);
  const source = new LayoutImageSource(layoutDir);
  const index = await source.readIndex();
  try {
    const selected = await selectImage(source, index.manifests ?? [], platform.oci);
    return { layoutDir, manifestDigest: selected.descriptor.digest, manifest: selected.manifest, config: selected.config };
  } catch (error) {
    if (error instanceof PlatformNotFoundError) {
      throw new MultiarchError(
        `The image at ${layoutDir} has no manifest for ${platformString(platform.oci)} (it has: ${error.available.join(', ') || 'no manifests'}).`,
        `Build it for this arch: nx run <project>:docker-arch-build --arch=${platform.arch}.`,
      );
    }
    if (error instanceof ConfigPlatformMismatchError) {
      throw new MultiarchError(
        `The image config at ${layoutDir} says ${error.said}, not ${platformString(platform.oci)}.`,
        `Rebuild the image with --arch=${platform.arch}; its config and index must name the same platform.`,
      );
    }
    throw error;
  }
}

/** `<layout>@sha256:<first 12 hex>`, for messages. */
export function imageLabel(image: ResolvedImage): string {
  return `${image.layoutDir}@${image.manifestDigest.slice(0, 19)}`;
}
