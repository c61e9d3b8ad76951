import * as tarStream from 'tar-stream';
import { posix } from 'node:path';
import { completeAndSort, normalizeEntryPath, type ArchiveEntry } from '../archive/tar';
import { gzipDeterministic } from '../archive/gzip';
import { sha256Digest } from '../oci/digest';
import type { Digest } from '../oci/types';

/**
 * A deterministic image layer: the entries of archive/tar's createTar (sorted,
 * fixed mtime, fixed modes, no user or group names) plus a numeric owner per
 * entry, which COPY --chown needs and createTar does not take. Compressed
 * with the pinned gzip, so the digest depends only on the entries.
 */
export interface LayerEntry extends ArchiveEntry {
  uid?: number;
  gid?: number;
}

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

function sortedEntries(entries: readonly LayerEntry[], includeParents: boolean): LayerEntry[] {
  if (includeParents) {
    // completeAndSort drops fields it does not know (uid/gid): put them back by path.
    const owners = new Map(entries.map((e) => [normalizeEntryPath(e.path), e] as const));
    return completeAndSort(entries).map((e) => ({ ...e, ...pickOwner(owners.get(e.path)) }));
  }
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = normalizeEntryPath(entry.path);
    byPath.set(path, { ...entry, path });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function pickOwner(entry: LayerEntry | undefined): Pick<LayerEntry, 'uid' | 'gid'> {
  return entry ? { uid: entry.uid, gid: entry.gid } : {};
}

export async function createLayerTar(entries: readonly LayerEntry[], options: LayerOptions): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date(options.mtime * 1000);
  for (const entry of sortedEntries(entries, options.includeParents)) {
    const common = { mtime, uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: '' };
    if (entry.type === 'directory') {
      pack.entry({ ...common, name: `${entry.path}/`, type: 'directory', mode: entry.mode ?? 0o755 });
    } else if (entry.type === 'symlink') {
      pack.entry({ ...common, name: entry.path, type: 'symlink', linkname: entry.linkTarget ?? '', mode: entry.mode ?? 0o777 });
    } else {
      const content = entry.content ?? Buffer.alloc(0);
      pack.entry({ ...common, name: entry.path, type: 'file', size: content.length, mode: entry.mode ?? 0o644 }, content);
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
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
