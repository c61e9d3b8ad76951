import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256Digest } from '../oci/digest';
import { MediaTypes, type Digest } from '../oci/types';
import { RegistryClient } from '../registry/client';
import { BlobDigestMismatchError, RegistryError } from '../registry/errors';
import type { CacheKey } from './cache-key';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, entryManifest, readEntryManifest, refusedManifest, type EntryManifestReading } from './oci-entry';
import { keepInUse, ReadsInProgress, selectForRemoval, type RetentionCandidate } from './retention';
import { CorruptEntryError, type CacheStorage, type PruneResult, type PutOutcome, type ReceivedUpload, type RetentionPolicy, type VerifiedEntry } from './storage';

/**
 * The registry operations the OCI backend needs; RegistryClient provides
 * them through `registryEntryStore`.
 */
export interface EntryRegistry {
  ping(): Promise<void>;
  /** The manifest bytes tagged `reference`, or undefined when there is none. */
  getManifest(repository: string, reference: string): Promise<Buffer | undefined>;
  putManifest(repository: string, reference: string, body: Buffer, mediaType: string): Promise<void>;
  hasBlob(repository: string, digest: Digest): Promise<boolean>;
  /** Uploads a blob, from a file streamed or from bytes. */
  pushBlob(repository: string, source: Buffer | { path: string }, digest: Digest, size: number): Promise<void>;
  /**
   * Streams the blob into a new file at `destination`, checked on the way
   * against `digest` and `size`. Throws BlobDigestMismatchError when the
   * bytes do not match (and leaves no file, on that or any error).
   */
  downloadBlob(repository: string, digest: Digest, destination: string, size: number): Promise<void>;
  /** Every tag of the repository (none when it does not exist yet). */
  listTags(repository: string): Promise<string[]>;
  /** Deletes the manifest with this digest; false when there is none. Throws, with the setting to turn on, where deletes are off. */
  deleteManifest(repository: string, digest: Digest): Promise<boolean>;
  close(): void;
}

export interface OciStorageOptions {
  registry: string;
  repository: string;
  /** Parent of the staging folder for uploads and downloads (default: OS temp). */
  tempDir?: string;
  insecure?: boolean;
  log?: (line: string) => void;
  /** The clock (epoch ms) for the created time written into entries and for retention; tests set it. */
  now?: () => number;
}

/** Manifests read at once while listing entries for retention. */
const LIST_CONCURRENCY = 8;

/**
 * Entries as OCI artifacts in one repository of a registry: the blob, the
 * empty config, and a manifest tagged with the Nx hash (see oci-entry.ts).
 * The server stays stateless — any number of servers can share a repository,
 * and the registry's own replication and backups cover the cache.
 *
 * Retention (prune) goes by each entry's last use: the time this server last
 * served it, kept in memory, or else the created time written into the
 * manifest at store time (a shared registry records no reads). It deletes
 * manifests by digest; the registry's garbage collection frees the blobs.
 *
 * An entry that fails its check is refused, and a "refused" marker manifest
 * is tagged over it: the hash reads as missing from then on, the next trusted
 * build stores it again, and no delete permission is needed.
 */
export class OciStorage implements CacheStorage {
  readonly description: string;
  readonly uploadDir: string;
  private readonly downloadDir: string;
  private emptyConfigPresent = false;
  /** Entries being served now, with how many readers each: prune leaves them alone. */
  private readonly reading = new ReadsInProgress();
  /** When this server last served each entry (epoch ms). */
  private readonly lastServed = new Map<string, number>();

  private constructor(
    private readonly registry: EntryRegistry,
    private readonly repository: string,
    private readonly stagingDir: string,
    host: string,
    private readonly now: () => number,
  ) {
    this.description = `oci://${host}/${repository}`;
    this.uploadDir = join(stagingDir, 'uploads');
    this.downloadDir = join(stagingDir, 'downloads');
  }

  static async create(options: OciStorageOptions): Promise<OciStorage> {
    const stagingDir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'nx-multiarch-cache-'));
    const storage = new OciStorage(registryEntryStore(options), options.repository, stagingDir, options.registry, options.now ?? Date.now);
    await mkdir(storage.uploadDir, { recursive: true });
    await mkdir(storage.downloadDir, { recursive: true });
    return storage;
  }

  async has(key: CacheKey): Promise<boolean> {
    const reading = await this.read(key);
    return reading !== undefined && reading.kind !== 'refused';
  }

  async open(key: CacheKey): Promise<VerifiedEntry | undefined> {
    const entry = await this.reading.track(key, () => this.openCounted(key));
    if (entry) this.lastServed.set(key, this.now());
    return entry;
  }

  private async openCounted(key: CacheKey): Promise<VerifiedEntry | undefined> {
    const manifest = await this.registry.getManifest(this.repository, key);
    if (manifest === undefined) return undefined;
    const reading = readEntryManifest(key, manifest);
    if (reading.kind === 'refused') return undefined;
    if (reading.kind === 'invalid') throw await this.refuse(key, manifest, reading.reason);
    const blob = reading.blob;

    // Streamed to disk and checked on the way (digest and size), then streamed out:
    // never the whole entry in memory. The staging folder is the server's own
    // (mkdtemp: mode 0700), so the checked file is the one served.
    const staged = join(this.downloadDir, `entry-${randomBytes(12).toString('hex')}`);
    try {
      await this.registry.downloadBlob(this.repository, blob.digest, staged, blob.size);
    } catch (error) {
      await rm(staged, { force: true });
      if (error instanceof BlobDigestMismatchError) {
        const detail = error.actual !== undefined && error.actual !== blob.digest ? `its blob hashes to ${error.actual}, the manifest says ${blob.digest}` : `its blob has ${error.receivedBytes}${error.actual === undefined ? ' or more' : ''} bytes, the manifest says ${blob.size}`;
        throw await this.refuse(key, manifest, detail);
      }
      if (error instanceof RegistryError && error.status === 404) throw await this.refuse(key, manifest, `its blob ${blob.digest} is missing`);
      throw error;
    }
    const handle = await open(staged, 'r');
    // Unlinked at once: the open handle keeps the bytes until the stream closes.
    await rm(staged, { force: true });
    return {
      size: blob.size,
      digest: blob.digest,
      stream: (): Readable => handle.createReadStream({ start: 0, autoClose: true }),
      discard: () => handle.close(),
    };
  }

  async put(key: CacheKey, upload: ReceivedUpload): Promise<PutOutcome> {
    try {
      if (await this.has(key)) return 'exists';
      await this.ensureEmptyConfig();
      await this.registry.pushBlob(this.repository, { path: upload.path }, upload.digest, upload.size);
      // The tag goes last: no reader ever finds a manifest whose blob is missing.
      await this.registry.putManifest(this.repository, key, entryManifest(key, upload, new Date(this.now()).toISOString()), MediaTypes.ociManifest);
      return 'stored';
    } finally {
      await rm(upload.path, { force: true });
    }
  }

  /**
   * Removes the entries the policy no longer keeps (selectForRemoval, as in
   * the file backend). Entry size: its manifest plus its blob. Tags that are
   * not entries (refused markers, other artifacts) are left alone. An entry
   * this server is reading is skipped; a download already finished is
   * served from the staging copy, so a delete cannot cut it short.
   */
  async prune(policy: RetentionPolicy, options: { now?: number; dryRun?: boolean } = {}): Promise<PruneResult> {
    const started = options.now ?? this.now();
    const tags = await this.registry.listTags(this.repository);
    const entries: Array<RetentionCandidate & { digest: Digest }> = [];
    for (let at = 0; at < tags.length; at += LIST_CONCURRENCY) {
      const batch = await Promise.all(tags.slice(at, at + LIST_CONCURRENCY).map((tag) => this.candidate(tag)));
      for (const entry of batch) if (entry) entries.push(entry);
    }
    const result = selectForRemoval(entries, policy, started, (key) => this.reading.has(key));
    if (options.dryRun) return result;
    const doomed = entries.filter((e) => result.removed.includes(e.key));
    for (const entry of doomed) {
      // Checked again at the last moment: a read may have started since the list was made.
      if (this.reading.has(entry.key)) {
        keepInUse(result, entry.key, entry.size);
        continue;
      }
      await this.registry.deleteManifest(this.repository, entry.digest);
      this.lastServed.delete(entry.key);
    }
    return result;
  }

  /** The tag as a retention candidate, or undefined when it holds no live entry. */
  private async candidate(tag: string): Promise<(RetentionCandidate & { digest: Digest }) | undefined> {
    const manifest = await this.registry.getManifest(this.repository, tag);
    if (manifest === undefined) return undefined;
    const reading = readEntryManifest(tag as CacheKey, manifest);
    if (reading.kind !== 'entry') return undefined;
    // No created time (stored before retention existed): the oldest, so it goes first.
    const lastUsed = Math.max(reading.createdMs ?? 0, this.lastServed.get(tag) ?? 0);
    return { key: tag, lastUsed, size: manifest.length + reading.blob.size, digest: sha256Digest(manifest) };
  }

  async checkHealth(): Promise<void> {
    await this.registry.ping();
  }

  async close(): Promise<void> {
    this.registry.close();
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  private async read(key: CacheKey): Promise<EntryManifestReading | undefined> {
    const manifest = await this.registry.getManifest(this.repository, key);
    return manifest === undefined ? undefined : readEntryManifest(key, manifest);
  }

  private async ensureEmptyConfig(): Promise<void> {
    if (this.emptyConfigPresent) return;
    // Distribution refuses a manifest whose config blob the repository lacks, even the empty one.
    if (!(await this.registry.hasBlob(this.repository, EMPTY_CONFIG.digest))) {
      await this.registry.pushBlob(this.repository, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.digest, EMPTY_CONFIG.size);
    }
    this.emptyConfigPresent = true;
  }

  /** Tags the refused marker over the entry and returns the error to report. */
  private async refuse(key: CacheKey, manifest: Buffer, detail: string): Promise<CorruptEntryError> {
    const refusedDigest = sha256Digest(manifest);
    try {
      await this.ensureEmptyConfig();
      await this.registry.putManifest(this.repository, key, refusedManifest(key, refusedDigest, detail), MediaTypes.ociManifest);
      return new CorruptEntryError(
        key,
        detail,
        `The tag now holds a "refused" marker, so the hash reads as missing and the next trusted build stores it again; the refused manifest stays at ${this.description}@${refusedDigest} for inspection.`,
      );
    } catch (error) {
      return new CorruptEntryError(
        key,
        detail,
        `Marking it refused failed too (${(error as Error).message}): delete the manifest tagged ${key} from ${this.description}; until then Nx runs that need it fail unless NX_SKIP_REMOTE_CACHE=true.`,
      );
    }
  }
}

/** The EntryRegistry of a RegistryClient, with push access to the cache repository. */
export function registryEntryStore(options: Pick<OciStorageOptions, 'registry' | 'insecure' | 'log'>): EntryRegistry {
  const client = new RegistryClient({ registry: options.registry, insecure: options.insecure, access: 'push', log: options.log });
  return {
    ping: () => client.ping(),
    async getManifest(repository, reference) {
      try {
        return (await client.getManifest(repository, reference, [MediaTypes.ociManifest])).body;
      } catch (error) {
        if (error instanceof RegistryError && error.status === 404) return undefined;
        throw error;
      }
    },
    async putManifest(repository, reference, body, mediaType) {
      await client.putManifest(repository, reference, body, mediaType);
    },
    hasBlob: (repository, digest) => client.hasBlob(repository, digest),
    async pushBlob(repository, source, digest, size) {
      await client.pushBlob(repository, source, digest, { size });
    },
    async downloadBlob(repository, digest, destination, size) {
      await client.downloadBlob(repository, digest, destination, { size });
    },
    listTags: (repository) => client.listTags(repository),
    deleteManifest: (repository, digest) => client.deleteManifest(repository, digest),
    close: () => client.close(),
  };
}
