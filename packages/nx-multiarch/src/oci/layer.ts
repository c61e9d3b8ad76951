import { posix } from 'node:path';
import { createTar, type ArchiveEntry } from './tar';
import { gzipDeterministic } from './gzip';
import { sha256Digest } from './digest';
import type { Digest } from './types';

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

/** An image path (absolute, as COPY writes it) to a layer entry path. */
export function layerPath(imagePath: string): string {
  return posix.normalize(imagePath).replace(/^\/+/, '');
}
