import { gunzip } from '../oci/gzip';
import { readTar, type ArchiveEntry } from '../oci/tar';
import { OciLayoutReader } from '../oci/layout';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types';
import { MultiarchError } from '../errors';

/**
 * The root file system an image's layers add up to, read back from the OCI
 * layout the engine just wrote: what the SBOM describes is what ships, not
 * what the build meant to put there. Whiteouts (`.wh.<name>`, `.wh..wh..opq`)
 * are applied so a file a later layer deletes is not listed.
 */
export interface ImageContents {
  manifest: Descriptor;
  config: Descriptor;
  /** org.opencontainers.image.base.* annotations of the manifest (the engine records its base there). */
  baseDigest?: string;
  baseName?: string;
  /** Regular files and symlinks by path, the last layer's version. */
  files: Map<string, ArchiveEntry>;
}

function layerTar(blob: Buffer, mediaType: string): Buffer | undefined {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return gunzip(blob);
  if (mediaType.endsWith('.tar') || mediaType.endsWith('.tar.v1') || mediaType.endsWith('diff.tar')) return blob;
  return undefined;
}

export async function readImageContents(layoutDir: string): Promise<ImageContents> {
  const reader = new OciLayoutReader(layoutDir);
  const index: ImageIndex = await reader.readIndex();
  const manifestDescriptor = index.manifests[0];
  if (!manifestDescriptor || index.manifests.length !== 1) {
    throw new MultiarchError(`The layout at ${layoutDir} does not hold exactly one image manifest.`, 'Rebuild the image.');
  }
  const manifest = await reader.readJson<ImageManifest>(manifestDescriptor.digest);
  const files = new Map<string, ArchiveEntry>();
  for (const layer of manifest.layers) {
    const tar = layerTar(await reader.readBlob(layer.digest), layer.mediaType);
    if (!tar) {
      throw new MultiarchError(`Layer ${layer.digest} has media type ${layer.mediaType}, which the SBOM reader cannot open.`, 'Use gzip or uncompressed layers.');
    }
    for (const entry of await readTar(tar)) applyEntry(files, entry);
  }
  return {
    manifest: manifestDescriptor,
    config: manifest.config,
    baseDigest: manifest.annotations?.['org.opencontainers.image.base.digest'],
    baseName: manifest.annotations?.['org.opencontainers.image.base.name'],
    files,
  };
}

function applyEntry(files: Map<string, ArchiveEntry>, entry: ArchiveEntry): void {
  const slash = entry.path.lastIndexOf('/');
  const dir = slash < 0 ? '' : entry.path.slice(0, slash + 1);
  const name = entry.path.slice(slash + 1);
  if (name === '.wh..wh..opq') {
    for (const path of [...files.keys()]) if (path.startsWith(dir)) files.delete(path);
    return;
  }
  if (name.startsWith('.wh.')) {
    const gone = dir + name.slice(4);
    for (const path of [...files.keys()]) if (path === gone || path.startsWith(`${gone}/`)) files.delete(path);
    return;
  }
  if (entry.type === 'directory') return;
  files.set(entry.path, entry);
}
