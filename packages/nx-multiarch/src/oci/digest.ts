import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MultiarchError } from '../errors';
import type { Digest } from './types';

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function sha256FileDigest(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export function isDigest(value: string): value is Digest {
  return DIGEST_PATTERN.test(value);
}

/** The hex part, as blobs/sha256/<hex> file names use it. */
export function digestHex(digest: Digest): string {
  if (!isDigest(digest)) throw new MultiarchError(`Not a sha256 digest: ${digest}`);
  return digest.slice('sha256:'.length);
}

/**
 * Bytes that do not hash to the digest they were stored or fetched under:
 * corrupted or tampered with. The one type every reader throws (layouts,
 * blob caches, archives; the registry client's own extends it), so callers
 * can refuse such content without reading message text.
 */
export class DigestMismatchError extends MultiarchError {
  constructor(
    /** Names the content, e.g. `Blob sha256:… in <layout>: content`. */
    what: string,
    readonly expected: Digest,
    /** What the bytes hash to; undefined when reading stopped early (more bytes than expected). */
    readonly actual: Digest | undefined,
    hint = 'The blob is corrupted or was tampered with; delete it from the cache or registry and fetch or build it again.',
    /** A whole message, for mismatches that are about the size rather than the hash. */
    message?: string,
  ) {
    super(message ?? `${what} does not match its digest (expected ${expected}, got ${actual ?? 'more bytes than expected'}).`, hint);
    this.name = 'DigestMismatchError';
  }
}

/** Throws DigestMismatchError when data does not hash to the digest it was fetched or stored under. */
export function verifyDigest(data: Buffer, expected: Digest, what: string): void {
  const actual = sha256Digest(data);
  if (actual !== expected) throw new DigestMismatchError(`${what}: content`, expected, actual);
}
