import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readImageSummary } from '../outputs/image-summary';
import { MultiarchError } from '../errors';
import { ConfigPlatformMismatchError, LayoutImageSource, PlatformNotFoundError, selectImage, type SelectedImage } from '../oci/image-source';
import { ImageManifest, Platform, toPlatform } from '../oci/types';
import { Arch, PLATFORMS, platformString } from '../platform';
import { outputDir } from '../outputs/paths';

/**
 * One arch's image as docker-arch-build left it in dist/images/<project>/<arch>/:
 * the manifest bytes (pushed as they are when the format allows, so the
 * digest stays the one the build reported) and where each blob lives.
 */
export interface ArchImage {
  arch: Arch;
  platform: Platform;
  layoutDir: string;
  manifestBody: Buffer;
  manifest: ImageManifest;
  /** Blob file of each config and layer digest. */
  blobFiles: Record<string, string>;
}

function buildHint(project: string, arch: Arch): string {
  return `Build it first: nx run ${project}:docker-arch-build --arch=${arch} (manifest-push depends on the per-arch build targets, so nx run ${project}:manifest-push builds missing images itself).`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function loadArchImage(workspaceRoot: string, project: string, arch: Arch): Promise<ArchImage> {
  const dir = outputDir(workspaceRoot, 'images', project, arch);
  const summary = await readImageSummary(dir);
  const layoutDir = summary?.layout ? resolve(dir, summary.layout) : dir;
  if (!(await exists(join(layoutDir, 'index.json')))) {
    throw new MultiarchError(`No ${arch} image of ${project}: no OCI image layout at dist/images/${project}/${arch}.`, buildHint(project, arch));
  }
  const source = new LayoutImageSource(layoutDir);
  const index = await source.readIndex();
  const want = PLATFORMS[arch].oci;
  let selected: SelectedImage;
  try {
    selected = await selectImage(source, index.manifests ?? [], want);
  } catch (error) {
    if (error instanceof PlatformNotFoundError) {
      throw new MultiarchError(`The layout at dist/images/${project}/${arch} holds no image manifest for ${arch} (it has: ${error.available.join(', ') || 'none'}).`, buildHint(project, arch));
    }
    // The folder name, the config and the index descriptor must agree on the platform.
    if (error instanceof ConfigPlatformMismatchError) {
      throw new MultiarchError(
        `dist/images/${project}/${arch} holds a ${error.said} image, not ${platformString(want)}.`,
        `Rebuild it: nx run ${project}:docker-arch-build --arch=${arch} --skip-nx-cache.`,
      );
    }
    throw error;
  }
  const { descriptor, manifest, manifestBody } = selected;
  if (summary?.manifestDigest && summary.manifestDigest !== descriptor.digest) {
    throw new MultiarchError(
      `dist/images/${project}/${arch}: image.json says ${summary.manifestDigest} but the layout's index names ${descriptor.digest}.`,
      `The output is inconsistent; rebuild it: nx run ${project}:docker-arch-build --arch=${arch} --skip-nx-cache.`,
    );
  }

  const blobFiles: Record<string, string> = {};
  for (const blob of [manifest.config, ...manifest.layers]) {
    const path = source.blobFile(blob.digest);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new MultiarchError(`Blob ${blob.digest} of the ${arch} image of ${project} is missing from its layout.`, buildHint(project, arch));
    if (info.size !== blob.size) {
      throw new MultiarchError(
        `Blob ${blob.digest} of the ${arch} image of ${project} is ${info.size} bytes; its manifest says ${blob.size}.`,
        `The layout is damaged; rebuild it: nx run ${project}:docker-arch-build --arch=${arch} --skip-nx-cache.`,
      );
    }
    blobFiles[blob.digest] = path;
  }
  return { arch, platform: descriptor.platform ?? toPlatform(want), layoutDir, manifestBody, manifest, blobFiles };
}

/** Every requested arch; all missing ones are named in one error, so one build command fixes them. */
export async function loadArchImages(workspaceRoot: string, project: string, arches: readonly Arch[]): Promise<ArchImage[]> {
  const results = await Promise.allSettled(arches.map((arch) => loadArchImage(workspaceRoot, project, arch)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const missing = arches.filter((_, i) => results[i].status === 'rejected');
    throw new MultiarchError(
      `${failures.length} images of ${project} cannot be pushed:\n${failures.map((f) => `  - ${f.message}`).join('\n')}`,
      `Build them first: ${missing.map((a) => `nx run ${project}:docker-arch-build --arch=${a}`).join('; ')} (or run nx run ${project}:manifest-push, which depends on the per-arch builds).`,
    );
  }
  return results.map((r) => (r as PromiseFulfilledResult<ArchImage>).value);
}
