import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { gunzip } from '../gzip';
import { ArchiveEntry, readTar } from '../tar';
import { verifyDigest } from '../digest';
import { ConfigPlatformMismatchError, PlatformNotFoundError, selectImage, type DocumentSource, type SelectedImage } from '../image-source';
import type { Descriptor, ImageIndex } from '../types';
import type { OciPlatform } from '../../platform/platforms';
import { platformString } from '../../platform/platforms';
import { wrongPlatformError, type DockerImageConfig } from '../docker-config';

/**
 * Reads the image a docker build produced, from either archive a client can
 * write: `docker save` (manifest.json naming a config file and layer tars;
 * engines before 25 write only this) or buildx `--output type=oci` (an OCI
 * layout in a tar). Both give the config and the uncompressed layer tars,
 * which the engine then turns into our own deterministic layout.
 */
export interface BuiltImage {
  config: DockerImageConfig;
  /** Uncompressed layer tars, base first. */
  layers: Buffer[];
}

/** One image in `docker save`'s manifest.json. */
export interface DockerSaveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

class ArchiveFiles {
  private readonly byPath = new Map<string, ArchiveEntry>();

  constructor(
    entries: readonly ArchiveEntry[],
    private readonly what: string,
  ) {
    for (const entry of entries) this.byPath.set(entry.path, entry);
  }

  has(path: string): boolean {
    return this.byPath.has(posix.normalize(path));
  }

  /** File bytes, following symlinks (docker save links repeated layers to the first copy). */
  read(path: string, depth = 0): Buffer {
    const normalized = posix.normalize(path);
    const entry = this.byPath.get(normalized);
    if (entry?.type === 'symlink' && depth < 8) {
      return this.read(posix.join(posix.dirname(normalized), entry.linkTarget ?? ''), depth + 1);
    }
    if (entry?.type !== 'file' || !entry.content) {
      throw new MultiarchError(`${this.what} has no file ${path}.`, 'The docker client wrote an archive this plugin does not understand; report it with the docker version.');
    }
    return entry.content;
  }

  json<T>(path: string): T {
    return JSON.parse(this.read(path).toString('utf8')) as T;
  }
}

/** A layer as it is stored, to an uncompressed tar. */
export function uncompressedLayer(data: Buffer): Buffer {
  return data.subarray(0, 2).equals(GZIP_MAGIC) ? gunzip(data) : data;
}

function readDockerSave(files: ArchiveFiles, what: string): BuiltImage {
  const manifest = files.json<DockerSaveManifestEntry[]>('manifest.json');
  if (!Array.isArray(manifest) || manifest.length !== 1) {
    throw new MultiarchError(`${what} holds ${Array.isArray(manifest) ? manifest.length : 'no'} images; expected exactly one.`, 'Save one tag at a time.');
  }
  const [image] = manifest;
  return {
    config: files.json<DockerImageConfig>(image.Config),
    layers: image.Layers.map((path) => uncompressedLayer(files.read(path))),
  };
}

function blobOf(files: ArchiveFiles, descriptor: Descriptor): Buffer {
  const data = files.read(`blobs/${descriptor.digest.replace(':', '/')}`);
  verifyDigest(data, descriptor.digest, `Blob ${descriptor.digest} of the buildx output`);
  return data;
}

/** The OCI layout inside a buildx archive, as a source for the one platform walk. */
function archiveSource(files: ArchiveFiles, what: string): DocumentSource {
  return {
    description: what,
    fetchDocument: async (descriptor) => blobOf(files, descriptor),
    fetchConfig: async (digest) => blobOf(files, { mediaType: '', digest, size: 0 }),
  };
}

/**
 * The image for `platform` below the layout's index.json. buildx 0.10+ wraps
 * the image in a nested index beside an attestation manifest (platform
 * unknown/unknown); the walk descends through indexes.
 */
async function readOciArchive(files: ArchiveFiles, what: string, platform: OciPlatform): Promise<BuiltImage> {
  const index = files.json<ImageIndex>('index.json');
  let selected: SelectedImage;
  try {
    selected = await selectImage(archiveSource(files, what), index.manifests ?? [], platform);
  } catch (error) {
    if (error instanceof PlatformNotFoundError) {
      throw new MultiarchError(`${what} has no image for ${platformString(platform)}.`, 'Check the --platform the build was given.');
    }
    if (error instanceof ConfigPlatformMismatchError) throw wrongPlatformError(error.said, platform);
    throw error;
  }
  return {
    config: selected.config as DockerImageConfig,
    layers: selected.manifest.layers.map((layer) => uncompressedLayer(blobOf(files, layer))),
  };
}

/** Reads a `docker save` or OCI archive (tar) into its config and uncompressed layers. */
export async function readBuiltImageArchive(path: string, platform: OciPlatform): Promise<BuiltImage> {
  const what = `The image archive ${posix.basename(path)}`;
  const files = new ArchiveFiles(await readTar(await readFile(path)), what);
  // docker 25+ save writes both; manifest.json is the one every version has.
  if (files.has('manifest.json')) return readDockerSave(files, what);
  if (files.has('index.json')) return readOciArchive(files, what, platform);
  throw new MultiarchError(`${what} has neither manifest.json (docker save) nor index.json (OCI).`, 'Report it with the docker version.');
}
