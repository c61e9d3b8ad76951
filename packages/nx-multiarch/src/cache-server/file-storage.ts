import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MultiarchError } from '../errors';
import { digestHex } from '../oci/digest';
import type { CacheKey } from './cache-key';
import { decodeEntryRecord, encodeEntryRecord } from './entry-record';
import { CorruptEntryError, type CacheStorage, type PruneResult, type PutOutcome, type ReceivedUpload, type RetentionPolicy, type VerifiedEntry } from './storage';
import type { Digest } from '../oci/types';
import { sha256OfHandle } from './verify-file';
import { keepInUse, ReadsInProgress, selectForRemoval } from './retention';
import { ownerVerdict, ownerTag } from '../util/stale-temp';

/** Uploads older than this are left-overs of a killed server and are removed at start. */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

/**
 * Entries in a folder, laid out like a tiny registry:
 *
 *   <root>/entries/<hash>          record: {"schemaVersion":1,"digest":…,"size":…}
 *   <root>/blobs/sha256/<hex>      the bytes Nx uploaded
 *   <root>/uploads/                bodies being received
 *   <root>/quarantine/             records of entries that failed their check
 *
 * Every step is atomic: a blob is renamed into place once complete and
 * flushed, and the record is hard-linked into place, which fails when the
 * name exists — so two servers racing on one hash store it once, and a
 * crash leaves either no entry or a whole one.
 *
 * An entry whose blob fails its check is refused and its record moved to
 * quarantine/ (kept for inspection): the next request misses, the next
 * trusted build stores the entry again, and the store heals itself.
 */
export class FileStorage implements CacheStorage {
  readonly description: string;
  readonly uploadDir: string;
  private readonly entriesDir: string;
  private readonly blobsDir: string;
  private readonly quarantineDir: string;
  /** Entries being served now, with how many readers each. */
  private readonly reading = new ReadsInProgress();

  private constructor(readonly root: string) {
    this.description = `file://${root}`;
    this.uploadDir = join(root, 'uploads');
    this.entriesDir = join(root, 'entries');
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.quarantineDir = join(root, 'quarantine');
  }

  static async create(root: string): Promise<FileStorage> {
    const storage = new FileStorage(root);
    try {
      for (const dir of [storage.uploadDir, storage.entriesDir, storage.blobsDir, storage.quarantineDir]) await mkdir(dir, { recursive: true });
      await access(root, constants.W_OK);
    } catch (error) {
      throw new MultiarchError(
        `Cannot use ${root} as the cache store (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
        'Give --storage file://<folder> with a folder the server may create and write.',
      );
    }
    await storage.removeStaleUploads();
    return storage;
  }

  async has(key: CacheKey): Promise<boolean> {
    return exists(this.entryPath(key));
  }

  async open(key: CacheKey): Promise<VerifiedEntry | undefined> {
    return this.reading.track(key, () => this.openCounted(key));
  }

  private async openCounted(key: CacheKey): Promise<VerifiedEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.entryPath(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const record = decodeEntryRecord(text);
    if (typeof record === 'string') throw await this.corrupt(key, record);
    const blobPath = join(this.blobsDir, digestHex(record.digest));
    let handle;
    try {
      handle = await open(blobPath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // Pruned by another process between the two reads: a miss, not damage.
        if (!(await exists(this.entryPath(key)))) return undefined;
        throw await this.corrupt(key, `its blob ${record.digest} is missing`);
      }
      throw error;
    }
    let mismatch: string | undefined;
    try {
      const actual = await sha256OfHandle(handle);
      if (actual.size !== record.size) mismatch = `its blob has ${actual.size} bytes, the record says ${record.size}`;
      else if (actual.digest !== record.digest) mismatch = `its blob hashes to ${actual.digest}, the record says ${record.digest}`;
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (mismatch) {
      await handle.close();
      throw await this.corrupt(key, mismatch);
    }
    const verified = handle;
    // The record's time is the entry's last use, which retention goes by (atime is often off).
    const now = new Date();
    await utimes(this.entryPath(key), now, now).catch(() => undefined);
    return {
      size: record.size,
      digest: record.digest,
      stream: (): Readable => verified.createReadStream({ start: 0, autoClose: true }),
      discard: () => verified.close(),
    };
  }

  async put(key: CacheKey, upload: ReceivedUpload): Promise<PutOutcome> {
    const entryPath = this.entryPath(key);
    if (await exists(entryPath)) {
      await rm(upload.path, { force: true });
      return 'exists';
    }
    // Same digest, same bytes: replacing an existing blob is harmless and keeps this one step.
    await rename(upload.path, join(this.blobsDir, digestHex(upload.digest)));
    const recordTmp = join(this.uploadDir, `record-${randomBytes(8).toString('hex')}-${ownerTag()}-${randomBytes(3).toString('hex')}`);
    await writeFile(recordTmp, encodeEntryRecord(upload), { flag: 'wx', mode: 0o644 });
    const handle = await open(recordTmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(recordTmp, entryPath);
      return 'stored';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    } finally {
      await unlink(recordTmp).catch(() => undefined);
    }
  }

  /**
   * Removes entries by the policy (selectForRemoval: those unused for longer
   * than maxAgeMs, then the least recently used until the rest fit in
   * maxTotalBytes). An entry being served is never removed. The record goes first (the entry
   * is a miss from then on), then its blob unless another entry shares it or
   * it is newer than the prune (an upload of the same bytes in flight).
   */
  async prune(policy: RetentionPolicy, options: { now?: number; dryRun?: boolean } = {}): Promise<PruneResult> {
    const started = options.now ?? Date.now();
    const entries: Array<{ key: string; lastUsed: number; size: number; digest: string }> = [];
    for (const key of await readdir(this.entriesDir)) {
      const path = join(this.entriesDir, key);
      const [info, text] = await Promise.all([stat(path).catch(() => undefined), readFile(path, 'utf8').catch(() => undefined)]);
      if (!info || text === undefined) continue;
      const record = decodeEntryRecord(text);
      if (typeof record === 'string') continue; // damaged records are quarantined when read, not pruned
      entries.push({ key, lastUsed: info.mtimeMs, size: record.size, digest: record.digest });
    }
    const result = selectForRemoval(entries, policy, started, (key) => this.reading.has(key as CacheKey));
    const doomed = new Set(result.removed);
    if (options.dryRun) return result;
    const stillUsed = new Set(entries.filter((e) => !doomed.has(e.key)).map((e) => e.digest));
    for (const entry of entries.filter((e) => doomed.has(e.key))) {
      // Checked again at the last moment: a read may have started since the list was made.
      if (this.reading.has(entry.key as CacheKey)) {
        keepInUse(result, entry.key, entry.size);
        stillUsed.add(entry.digest);
        continue;
      }
      await unlink(join(this.entriesDir, entry.key)).catch(() => undefined);
      if (stillUsed.has(entry.digest)) continue;
      const blob = join(this.blobsDir, digestHex(entry.digest as Digest));
      const info = await stat(blob).catch(() => undefined);
      if (info && info.mtimeMs < started) await unlink(blob).catch(() => undefined);
      stillUsed.add(entry.digest);
    }
    return result;
  }

  async checkHealth(): Promise<void> {
    await access(this.entriesDir, constants.W_OK);
    await access(this.blobsDir, constants.W_OK);
  }

  async close(): Promise<void> {
    // Nothing is held open between requests.
  }

  private entryPath(key: CacheKey): string {
    return join(this.entriesDir, key);
  }

  /** Moves the record aside so the entry reads as missing from now on, and says where it went. */
  private async corrupt(key: CacheKey, detail: string): Promise<CorruptEntryError> {
    const aside = join(this.quarantineDir, `${key}.${new Date().toISOString().replace(/[:.]/g, '-')}`);
    try {
      await rename(this.entryPath(key), aside);
      return new CorruptEntryError(key, detail, `its record was moved to ${aside}; the next trusted build stores the entry again`);
    } catch {
      return new CorruptEntryError(key, detail, `delete ${this.entryPath(key)}; the next trusted build stores the entry again`);
    }
  }

  /**
   * Uploads of a server that was killed: those whose owner (host and pid in
   * the name) is gone at once, unnamed ones of older versions after a day.
   * Another live server sharing the folder keeps its own.
   */
  private async removeStaleUploads(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.uploadDir)) {
      const path = join(this.uploadDir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const owned = /-[0-9a-f]{8}-\d+-[0-9a-f]{6}$/.test(name);
      const stale = owned ? ownerVerdict(name, info.mtimeMs, now) === 'stale' : now - info.mtimeMs > STALE_UPLOAD_MS;
      if (stale) await rm(path, { force: true, recursive: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
