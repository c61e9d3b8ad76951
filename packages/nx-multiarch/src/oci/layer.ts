import { posix } from 'node:path';
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createTar, packTar, type ArchiveEntry } from './tar';
import { createDeterministicGzip, gzipDeterministic } from './gzip';
import { sha256Digest } from './digest';
import type { OciLayoutWriter } from './layout';
import { MediaTypes, type Descriptor, type Digest } from './types';

/**
 * A deterministic image layer: oci/tar's createTar (sorted, fixed mtime,
 * fixed modes, numeric owners, no user or group names), compressed with the
 * pinned gzip, so the digest depends only on the entries.
 */
export type LayerEntry = ArchiveEntry;

export interface LayerOptions {
  /** Seconds since the epoch, every entry's mtime. */
  mtime: number;
  /**
   * Write the parent folders of every entry (0755, root). Right over scratch;
   * over a base image they are left out so the base's folder modes and owners
   * stay (extractors create missing parents, and those exist in the base).
   */
  includeParents: boolean;
}

export interface BuiltLayer {
  /** The gzip bytes, as stored in the layout. */
  blob: Buffer;
  /** sha256 of the gzip bytes. */
  digest: Digest;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: Digest;
  entryCount: number;
}

/** The layer's tar: oci/tar's deterministic writer, with the owners and parent folders the layer asks for. */
export function createLayerTar(entries: readonly LayerEntry[], options: LayerOptions): Promise<Buffer> {
  return createTar(entries, { mtime: options.mtime, includeParents: options.includeParents });
}

export async function buildLayer(entries: readonly LayerEntry[], options: LayerOptions): Promise<BuiltLayer> {
  const tar = await createLayerTar(entries, options);
  const blob = gzipDeterministic(tar);
  return { blob, digest: sha256Digest(blob), diffId: sha256Digest(tar), entryCount: entries.length };
}

export interface WrittenLayer {
  /** The gzip blob as stored in the layout. */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: Digest;
  entryCount: number;
}

/**
 * The layer written straight into a layout as a stream: tar (file entries
 * read from disk as it goes), hashed for the diff_id, gzipped with the pinned
 * compressor, hashed for the digest and stored under a temporary name renamed
 * at the end. Memory stays a few MB whatever the layer's size, and the bytes
 * are exactly buildLayer's.
 */
export async function writeLayer(entries: readonly LayerEntry[], options: LayerOptions, writer: OciLayoutWriter): Promise<WrittenLayer> {
  const tarHash = createHash('sha256');
  const hashTar = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      tarHash.update(chunk);
      callback(null, chunk);
    },
  });
  const tar = packTar(entries, { mtime: options.mtime, includeParents: options.includeParents });
  const gzip = createDeterministicGzip();
  // Errors of the first stages reach the writer's pipeline through the last one.
  tar.on('error', (error) => hashTar.destroy(error));
  hashTar.on('error', (error) => gzip.destroy(error));
  const descriptor = await writer.writeBlobStream(tar.pipe(hashTar).pipe(gzip), MediaTypes.ociLayerGzip);
  return { descriptor, diffId: `sha256:${tarHash.digest('hex')}`, entryCount: entries.length };
}

/** An image path (absolute, as COPY writes it) to a layer entry path. */
export function layerPath(imagePath: string): string {
  return posix.normalize(imagePath).replace(/^\/+/, '');
}
