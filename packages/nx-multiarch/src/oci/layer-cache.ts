import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { copyVerifiedBlob } from './blob-store';
import { digestHex, sha256Digest } from './digest';
import { createDeterministicGzip } from './gzip';
import { createLayerTar, type LayerEntry, type LayerOptions, type WrittenLayer } from './layer';
import { layerContentBytes, LAYER_THREAD_THRESHOLD, writeLayerBySize } from './layer-thread';
import { blobPath, type OciLayoutWriter } from './layout';
import { MediaTypes, type Digest } from './types';

/**
 * Compressed layers kept by what they hold, so a layer the engine has
 * compressed once is not compressed again: BuildKit keeps the compressed
 * blob of a snapshot for the same reason. An image task runs again while its
 * files stay the same when only the Dockerfile's metadata (LABEL, ENV, USER),
 * its base image or an option changed; its layer's tar is then the same
 * bytes, so its diff_id finds the gzip blob written last time.
 *
 * The gzip bytes depend only on the tar (gzip.ts), so a reused blob is the
 * very blob a compression would write: digests do not move. A record is
 * trusted only once its blob hashes to the recorded digest again (on the copy
 * into the layout); anything wrong with the cache (missing, corrupt, no
 * space) falls back to compressing, never fails a build.
 *
 * Only layers whose files fit the single gzip stream (64 MiB) are kept: the
 * tar is held in memory to learn its diff_id before compressing, and a big
 * layer is the kind a machine cannot keep many of anyway.
 *
 * Layout of the folder:
 *   gzip/<diff_id hex>          a LayerCacheRecord (JSON); mtime = last use
 *   blobs/sha256/<digest hex>   the gzip blob
 */
export interface LayerCacheRecord {
  /** sha256 of the gzip blob. */
  digest: Digest;
  /** Bytes of the gzip blob. */
  size: number;
}

/** Bytes of blobs the cache keeps before the least recently used go: a few hundred small layers. */
export const LAYER_CACHE_MAX_BYTES = 1024 * 1024 * 1024;

/** Age from which a blob without a record, or a temporary file, is a killed store's leftover. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

export interface CachedLayerWrite extends WrittenLayer {
  /** The gzip blob came from the cache instead of a compression. */
  reused: boolean;
}

export class LayerCache {
  constructor(
    readonly dir: string,
    private readonly maxBytes: number = LAYER_CACHE_MAX_BYTES,
  ) {}

  private recordPath(diffId: Digest): string {
    return join(this.dir, 'gzip', digestHex(diffId));
  }

  /** The blob recorded for a tar of this diff_id, or undefined. */
  async lookup(diffId: Digest): Promise<(LayerCacheRecord & { path: string }) | undefined> {
    try {
      const record = parseRecord(await readFile(this.recordPath(diffId), 'utf8'));
      if (!record) return undefined;
      const now = new Date();
      await utimes(this.recordPath(diffId), now, now);
      return { ...record, path: blobPath(this.dir, record.digest) };
    } catch {
      return undefined;
    }
  }

  /** Forgets a record whose blob failed its check. */
  async drop(diffId: Digest, digest?: Digest): Promise<void> {
    await rm(this.recordPath(diffId), { force: true });
    if (digest) await rm(blobPath(this.dir, digest), { force: true });
  }

  /** Keeps the blob just written into a layout (blob first, then its record; each renamed into place). */
  async store(diffId: Digest, layoutDir: string, record: LayerCacheRecord): Promise<void> {
    await mkdir(join(this.dir, 'gzip'), { recursive: true });
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const blob = blobPath(this.dir, record.digest);
    const suffix = `.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await copyFile(blobPath(layoutDir, record.digest), blob + suffix);
      await rename(blob + suffix, blob);
      await writeFile(this.recordPath(diffId) + suffix, JSON.stringify(record));
      await rename(this.recordPath(diffId) + suffix, this.recordPath(diffId));
    } finally {
      await rm(blob + suffix, { force: true });
      await rm(this.recordPath(diffId) + suffix, { force: true });
    }
    await this.evict();
  }

  /** Removes the least recently used records and their blobs while the blobs exceed the limit. */
  async evict(): Promise<void> {
    const names = (await readdir(join(this.dir, 'gzip'))).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const records: { name: string; used: number; size: number; digest: Digest }[] = [];
    for (const name of names) {
      const path = join(this.dir, 'gzip', name);
      const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]).catch(() => [undefined, undefined]);
      // Removed by another task meanwhile.
      if (!info || text === undefined) continue;
      const record = parseRecord(text);
      if (record) records.push({ name, used: info.mtimeMs, ...record });
      else await rm(path, { force: true });
    }
    await this.removeLeftovers(new Set(records.map((record) => digestHex(record.digest))));
    let total = records.reduce((sum, record) => sum + record.size, 0);
    for (const record of records.sort((a, b) => a.used - b.used || a.name.localeCompare(b.name))) {
      if (total <= this.maxBytes) break;
      await rm(join(this.dir, 'gzip', record.name), { force: true });
      await rm(blobPath(this.dir, record.digest), { force: true });
      total -= record.size;
    }
  }

  /**
   * Blobs no record names and temporary files, once an hour old: what a
   * killed store or a dropped record left. Younger ones may be a store that
   * is still writing its record.
   */
  private async removeLeftovers(named: Set<string>): Promise<void> {
    const leftovers = [
      ...(await readdir(join(this.dir, 'blobs', 'sha256'))).filter((name) => !named.has(name)).map((name) => join(this.dir, 'blobs', 'sha256', name)),
      ...(await readdir(join(this.dir, 'gzip'))).filter((name) => name.includes('.tmp-')).map((name) => join(this.dir, 'gzip', name)),
    ];
    for (const path of leftovers) {
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > LEFTOVER_AGE_MS) await rm(path, { force: true });
    }
  }
}

/** A record as stored, or undefined when it is not one (cut short, edited by hand). */
function parseRecord(text: string): LayerCacheRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<LayerCacheRecord>;
    if (typeof record.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(record.digest) || !Number.isSafeInteger(record.size)) return undefined;
    return { digest: record.digest as Digest, size: record.size as number };
  } catch {
    return undefined;
  }
}

/**
 * writeLayerBySize, with the compressed blob taken from `cache` when a layer
 * of the same tar was compressed before, and kept there when it was not.
 */
export async function writeLayerCached(entries: readonly LayerEntry[], options: LayerOptions, writer: OciLayoutWriter, cache: LayerCache | undefined): Promise<CachedLayerWrite> {
  if (!cache || layerContentBytes(entries) > LAYER_THREAD_THRESHOLD) return { ...(await writeLayerBySize(entries, options, writer)), reused: false };
  const tar = await createLayerTar(entries, options);
  const diffId = sha256Digest(tar);
  const hit = await cache.lookup(diffId);
  if (hit) {
    try {
      await copyVerifiedBlob(hit.path, hit.digest, writer.dir, 'The layer cache');
      // The size is the copied file's, which hashed to the digest, not the record's word.
      const { size } = await stat(blobPath(writer.dir, hit.digest));
      return { descriptor: { mediaType: MediaTypes.ociLayerGzip, digest: hit.digest, size }, diffId, entryCount: entries.length, reused: true };
    } catch {
      // Missing or corrupt: compressed again below, and recorded anew.
      await cache.drop(diffId, hit.digest).catch(() => undefined);
    }
  }
  const descriptor = await writer.writeBlobStream(Readable.from([tar]).pipe(createDeterministicGzip()), MediaTypes.ociLayerGzip);
  await cache.store(diffId, writer.dir, { digest: descriptor.digest, size: descriptor.size }).catch(() => undefined);
  return { descriptor, diffId, entryCount: entries.length, reused: false };
}
