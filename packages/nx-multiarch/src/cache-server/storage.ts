import type { Readable } from 'node:stream';
import { MultiarchError } from '../errors';
import type { Digest } from '../oci/types';
import type { CacheKey } from './cache-key';

/**
 * Where entries live. The server holds no state of its own: every backend
 * keeps an entry as a blob (the bytes Nx uploaded) plus a small record that
 * names the blob's digest and size, and checks the blob against that record
 * before it serves a byte.
 */
export interface CacheStorage {
  /** For logs and /health; holds no secret. */
  readonly description: string;
  /** Folder where uploads are received before `put` (same file system as the store, for the file backend). */
  readonly uploadDir: string;
  has(key: CacheKey): Promise<boolean>;
  /**
   * The entry, its bytes already checked against the recorded digest, or
   * undefined when there is none. Throws CorruptEntryError when the stored
   * bytes do not match.
   */
  open(key: CacheKey): Promise<VerifiedEntry | undefined>;
  /**
   * Stores a received upload under `key` unless an entry already exists.
   * Takes ownership of the upload file (moves or deletes it).
   */
  put(key: CacheKey, upload: ReceivedUpload): Promise<PutOutcome>;
  /** Removes entries the policy no longer keeps; never one being read. Absent where the backend cannot. */
  prune?(policy: RetentionPolicy, options?: { now?: number; dryRun?: boolean }): Promise<PruneResult>;
  /** Throws when the store cannot be used (folder gone, registry down). */
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}

export type PutOutcome = 'stored' | 'exists';

/** What retention keeps: entries used within maxAgeMs, and at most maxTotalBytes of them (least recently used go first). */
export interface RetentionPolicy {
  maxAgeMs?: number;
  maxTotalBytes?: number;
}

export interface PruneResult {
  /** Entries looked at. */
  examined: number;
  /** Keys removed (or, on a dry run, that would be). */
  removed: string[];
  freedBytes: number;
  /** Bytes of the entries that stay. */
  keptBytes: number;
  /** Keys the policy would remove but that were being read: left for the next prune. */
  skippedInUse: string[];
}

/** An upload on disk, hashed while it was received. */
export interface ReceivedUpload {
  path: string;
  size: number;
  digest: Digest;
}

export interface VerifiedEntry {
  size: number;
  digest: Digest;
  /** The bytes; call once. The entry releases its resources when the stream closes. */
  stream(): Readable;
  /** Frees the entry without streaming it (on an aborted request). */
  discard(): Promise<void>;
}

/** The stored bytes of an entry do not match its record: refuse, never serve. */
export class CorruptEntryError extends MultiarchError {
  constructor(
    readonly key: CacheKey,
    readonly detail: string,
    fix: string,
  ) {
    super(`Cache entry ${key} is corrupted: ${detail}. It was refused, not served.`, fix);
    this.name = 'CorruptEntryError';
  }
}
