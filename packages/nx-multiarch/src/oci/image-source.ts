import { MultiarchError } from '../errors';
import { copyVerifiedBlob } from './blob-store';
import { blobPath, OciLayoutReader } from './layout';
import { isIndexType, isManifestType } from './media-types';
import { describePlatform, platformMatches, type PlatformLike } from './platform-match';
import { MediaTypes, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './types';

/**
 * Where an image's documents come from (an OCI layout folder, a registry, an
 * archive) and the one walk from an index to the image of a platform. Every
 * document a source hands out has been checked against its digest.
 */
export interface DocumentSource {
  /** Names the image in messages (`oci-layout://…`, a registry reference, a folder). */
  readonly description: string;
  /** A manifest or index by descriptor, checked against its digest. */
  fetchDocument(descriptor: Descriptor): Promise<Buffer>;
  /** A config blob, checked against its digest. */
  fetchConfig(digest: Digest): Promise<Buffer>;
}

/** A source that can also copy layer blobs into a layout (what a build on top of a base needs). */
export interface ImageSource extends DocumentSource {
  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void>;
}

/** An OCI image layout folder as an image source. */
export class LayoutImageSource implements ImageSource {
  readonly reader: OciLayoutReader;

  constructor(
    readonly dir: string,
    readonly description: string = dir,
  ) {
    this.reader = new OciLayoutReader(dir);
  }

  readIndex(): Promise<ImageIndex> {
    return this.reader.readIndex();
  }

  private async blob(digest: Digest): Promise<Buffer> {
    try {
      return await this.reader.readBlob(digest);
    } catch (error) {
      if (this.description === this.dir || !(error instanceof MultiarchError)) throw error;
      throw new MultiarchError(`${this.description}: ${error.message}`, error.hint);
    }
  }

  fetchDocument(descriptor: Descriptor): Promise<Buffer> {
    return this.blob(descriptor.digest);
  }

  fetchConfig(digest: Digest): Promise<Buffer> {
    return this.blob(digest);
  }

  /** Where a blob lives in this layout (whether or not it is there). */
  blobFile(digest: Digest): string {
    return blobPath(this.dir, digest);
  }

  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void> {
    return copyVerifiedBlob(blobPath(this.dir, descriptor.digest), descriptor.digest, layoutDir, this.description);
  }
}

/** One image manifest of an OCI layout folder, resolved for a platform and read (digests verified). */
export interface LayoutImage {
  layoutDir: string;
  manifestDigest: Digest;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** The image of one platform: its manifest (bytes as stored, so their digest holds) and config. */
export interface SelectedImage {
  descriptor: Descriptor;
  manifestBody: Buffer;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** No entry of the index (or its nested indexes) is for the platform; `available` lists what there is. */
export class PlatformNotFoundError extends MultiarchError {
  constructor(
    readonly source: string,
    readonly want: PlatformLike,
    readonly available: string[],
  ) {
    super(
      `${source} has no image for ${describePlatform(want)}; it has ${available.length ? available.join(', ') : 'no platforms listed'}.`,
      `Build or push it for ${describePlatform(want)} too, or choose an image that has it.`,
    );
  }
}

/** The index entry says one platform and the image's config another: the index lies. */
export class ConfigPlatformMismatchError extends MultiarchError {
  constructor(
    readonly source: string,
    readonly want: PlatformLike,
    /** The platform the config says, as written. */
    readonly said: string,
  ) {
    super(`The image config of ${source} says ${said}, not ${describePlatform(want)}.`, 'Rebuild the image; its config and index must name the same platform.');
  }
}

export class MalformedImageError extends MultiarchError {}

function parseJson<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    throw new MalformedImageError(`${what} is not valid JSON.`, 'The image is corrupted; rebuild or fetch it again.');
  }
}

/** The media type of a document: the descriptor's, else the document's own field. */
function documentType(descriptor: Descriptor, body: Buffer): string {
  if (isIndexType(descriptor.mediaType) || isManifestType(descriptor.mediaType)) return descriptor.mediaType;
  const own = parseJson<{ mediaType?: string; manifests?: unknown }>(body, `Document ${descriptor.digest}`);
  return own.mediaType ?? (own.manifests ? MediaTypes.ociIndex : MediaTypes.ociManifest);
}

/** How deep indexes may nest before the walk calls it a loop. */
const MAX_DEPTH = 8;

/**
 * Walks index entries to the one image for `want`: an entry whose platform
 * matches, else (for entries that name no platform) each one in turn, its
 * config deciding. A matching entry whose config names another platform is
 * refused rather than skipped: the image is not what its index says.
 */
async function selectFrom(source: DocumentSource, entries: readonly Descriptor[], want: PlatformLike, seen: readonly string[]): Promise<SelectedImage> {
  const withPlatform = entries.filter((d) => d.platform);
  const available = withPlatform.map((d) => describePlatform(d.platform as Platform));
  const exact = withPlatform.find((d) => platformMatches(d.platform, want));
  if (exact) return selectDocument(source, exact, want, seen, true);
  for (const descriptor of entries.filter((d) => !d.platform)) {
    try {
      return await selectDocument(source, descriptor, want, seen, false);
    } catch (error) {
      if (!(error instanceof PlatformNotFoundError)) throw error;
      available.push(...error.available);
    }
  }
  throw new PlatformNotFoundError(source.description, want, [...new Set(available)]);
}

async function selectDocument(source: DocumentSource, descriptor: Descriptor, want: PlatformLike, seen: readonly string[], labelled: boolean): Promise<SelectedImage> {
  if (seen.includes(descriptor.digest) || seen.length > MAX_DEPTH) {
    throw new MalformedImageError(`${source.description}: its indexes refer to each other in a loop.`, 'The image is malformed; rebuild it.');
  }
  const body = await source.fetchDocument(descriptor);
  const type = documentType(descriptor, body);
  if (isIndexType(type)) {
    const index = parseJson<ImageIndex>(body, `Index ${descriptor.digest} of ${source.description}`);
    return selectFrom(source, index.manifests ?? [], want, [...seen, descriptor.digest]);
  }
  if (!isManifestType(type)) {
    throw new MalformedImageError(`${source.description}: ${descriptor.digest} is a ${type}, not an image.`, 'Point at an image or an image index.');
  }
  const manifest = parseJson<ImageManifest>(body, `Manifest ${descriptor.digest} of ${source.description}`);
  const config = parseJson<ImageConfig>(await source.fetchConfig(manifest.config.digest), `Config of ${source.description}`);
  const platform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (!platformMatches(platform, want)) {
    if (labelled) throw new ConfigPlatformMismatchError(source.description, want, describePlatform(platform));
    throw new PlatformNotFoundError(source.description, want, [describePlatform(platform)]);
  }
  return { descriptor, manifestBody: body, manifest, config };
}

/**
 * The image for `want`, starting from a list of index entries (a layout's
 * index.json) or from one document (a manifest or an index, e.g. what a
 * registry tag names). Throws PlatformNotFoundError, ConfigPlatformMismatchError
 * or MalformedImageError; callers turn them into their own words.
 */
export function selectImage(source: DocumentSource, start: Descriptor | readonly Descriptor[], want: PlatformLike): Promise<SelectedImage> {
  return Array.isArray(start) ? selectFrom(source, start, want, []) : selectDocument(source, start as Descriptor, want, [], false);
}
