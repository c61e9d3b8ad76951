import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MultiarchError } from '../errors';
import { MediaTypes, type Digest } from '../oci/types';
import { RegistryClient } from '../registry/client';
import { RegistryError } from '../registry/errors';
import type { CacheKey } from './cache-key';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, entryManifest, readEntryManifest } from './oci-entry';
import { CorruptEntryError, type CacheStorage, type PutOutcome, type ReceivedUpload, type VerifiedEntry } from './storage';
import { sha256OfHandle } from './verify-file';

/**
 * The registry operations the OCI backend needs; RegistryClient provides
 * them through `registryEntryStore`. Tests may give a different store.
 */
export interface EntryRegistry {
  ping(): Promise<void>;
  /** The manifest bytes tagged `reference`, or undefined when there is none. */
  getManifest(repository: string, reference: string): Promise<Buffer | undefined>;
  hasManifest(repository: string, reference: string): Promise<boolean>;
  putManifest(repository: string, reference: string, body: Buffer, mediaType: string): Promise<void>;
  hasBlob(repository: string, digest: Digest): Promise<boolean>;
  /** Uploads a blob from a file, streamed. */
  pushBlob(repository: string, source: Buffer | { path: string }, digest: Digest, size: number): Promise<void>;
  /**
   * Writes the blob's bytes into `destination` as the registry serves them.
   * Throws BlobDigestMismatch when they do not hash to `digest`.
   */
  downloadBlob(repository: string, digest: Digest, destination: string): Promise<void>;
  close(): void;
}

/** The registry served bytes that do not match the digest they were asked for by. */
export class BlobDigestMismatch extends Error {
  constructor(readonly digest: Digest) {
    super(`the registry served bytes that do not hash to ${digest}`);
    this.name = 'BlobDigestMismatch';
  }
}

export interface OciStorageOptions {
  registry: string;
  repository: string;
  /** Parent of the staging folder for uploads and downloads (default: OS temp). */
  tempDir?: string;
  insecure?: boolean;
  log?: (line: string) => void;
  /** For tests: a registry other than RegistryClient. */
  entryRegistry?: EntryRegistry;
}

/**
 * Entries as OCI artifacts in one repository of a registry: the blob, the
 * empty config, and a manifest tagged with the Nx hash (see oci-entry.ts).
 * The server stays stateless — any number of servers can share a repository,
 * and the registry's own replication and backups cover the cache.
 */
export class OciStorage implements CacheStorage {
  readonly description: string;
  readonly uploadDir: string;
  private emptyConfigPresent = false;

  private constructor(
    private readonly registry: EntryRegistry,
    private readonly repository: string,
    private readonly stagingDir: string,
    host: string,
  ) {
    this.description = `oci://${host}/${repository}`;
    this.uploadDir = join(stagingDir, 'uploads');
  }

  static async create(options: OciStorageOptions): Promise<OciStorage> {
    const registry = options.entryRegistry ?? registryEntryStore(options);
    const stagingDir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'nx-multiarch-cache-'));
    const storage = new OciStorage(registry, options.repository, stagingDir, options.registry);
    await mkdir(storage.uploadDir, { recursive: true });
    await mkdir(storage.downloadDir, { recursive: true });
    return storage;
  }

  private get downloadDir(): string {
    return join(this.stagingDir, 'downloads');
  }

  async has(key: CacheKey): Promise<boolean> {
    return this.registry.hasManifest(this.repository, key);
  }

  async open(key: CacheKey): Promise<VerifiedEntry | undefined> {
    const manifest = await this.registry.getManifest(this.repository, key);
    if (manifest === undefined) return undefined;
    const blob = readEntryManifest(key, manifest);
    if (typeof blob === 'string') throw this.corrupt(key, blob);

    // Staged on disk, checked, then streamed: never the whole entry in memory.
    const staged = join(this.downloadDir, `entry-${randomBytes(12).toString('hex')}`);
    try {
      await this.registry.downloadBlob(this.repository, blob.digest, staged);
    } catch (error) {
      await rm(staged, { force: true });
      if (error instanceof BlobDigestMismatch) throw this.corrupt(key, `its blob does not hash to ${blob.digest}`);
      if (error instanceof RegistryError && error.status === 404) throw this.corrupt(key, `its blob ${blob.digest} is missing`);
      throw error;
    }
    const handle = await open(staged, 'r');
    // Unlinked at once: the open handle keeps the bytes until the stream closes.
    await rm(staged, { force: true });
    try {
      const actual = await sha256OfHandle(handle);
      if (actual.size !== blob.size) throw this.corrupt(key, `its blob has ${actual.size} bytes, the manifest says ${blob.size}`);
      if (actual.digest !== blob.digest) throw this.corrupt(key, `its blob hashes to ${actual.digest}, the manifest says ${blob.digest}`);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return {
      size: blob.size,
      digest: blob.digest,
      stream: (): Readable => handle.createReadStream({ start: 0, autoClose: true }),
      discard: () => handle.close(),
    };
  }

  async put(key: CacheKey, upload: ReceivedUpload): Promise<PutOutcome> {
    try {
      if (await this.registry.hasManifest(this.repository, key)) return 'exists';
      await this.ensureEmptyConfig();
      await this.registry.pushBlob(this.repository, { path: upload.path }, upload.digest, upload.size);
      // The tag goes last: no reader ever finds a manifest whose blob is missing.
      await this.registry.putManifest(this.repository, key, entryManifest(key, upload), MediaTypes.ociManifest);
      return 'stored';
    } finally {
      await rm(upload.path, { force: true });
    }
  }

  async checkHealth(): Promise<void> {
    await this.registry.ping();
  }

  async close(): Promise<void> {
    this.registry.close();
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  private async ensureEmptyConfig(): Promise<void> {
    if (this.emptyConfigPresent) return;
    // Distribution refuses a manifest whose config blob the repository lacks, even the empty one.
    if (!(await this.registry.hasBlob(this.repository, EMPTY_CONFIG.digest))) {
      await this.registry.pushBlob(this.repository, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.digest, EMPTY_CONFIG.size);
    }
    this.emptyConfigPresent = true;
  }

  private corrupt(key: CacheKey, detail: string): CorruptEntryError {
    return new CorruptEntryError(key, detail, `delete the manifest tagged ${key} in ${this.description}`);
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
    hasManifest: async (repository, reference) => (await client.hasManifest(repository, reference)) !== undefined,
    async putManifest(repository, reference, body, mediaType) {
      await client.putManifest(repository, reference, body, mediaType);
    },
    hasBlob: (repository, digest) => client.hasBlob(repository, digest),
    async pushBlob(repository, source, digest, size) {
      await client.pushBlob(repository, source, digest, { size });
    },
    async downloadBlob(repository, digest, destination) {
      // RegistryClient.getBlob reads the whole blob into memory and checks it;
      // until the client can stream a blob into a file, this is the one place
      // an entry passes through memory.
      let bytes: Buffer;
      try {
        bytes = await client.getBlob(repository, digest);
      } catch (error) {
        if (isDigestMismatch(error)) throw new BlobDigestMismatch(digest);
        throw error;
      }
      await writeFile(destination, bytes, { flag: 'wx' });
    },
    close: () => client.close(),
  };
}

/** getBlob's own check fails with a plain MultiarchError saying the content does not match. */
function isDigestMismatch(error: unknown): boolean {
  return error instanceof MultiarchError && !(error instanceof RegistryError) && /does not match its digest/.test(error.message);
}
