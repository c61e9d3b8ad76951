import { MultiarchError } from '../errors';
import { DigestMismatchError } from '../oci/digest';
import type { Digest } from '../oci/types';

/** One entry of the Distribution API's error body `{"errors":[...]}`. */
export interface DistributionError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** A registry answered with an error status; `status` and `codes` let callers branch. */
export class RegistryError extends MultiarchError {
  constructor(
    message: string,
    readonly status: number,
    readonly codes: string[] = [],
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'RegistryError';
  }
}

/**
 * A registry served bytes that do not match the digest (or size) they were
 * asked for by: the blob is corrupted in its storage or was altered on the
 * way. Typed so callers can refuse the content without reading message text;
 * `code` is the Distribution API's own name for this error.
 */
export class BlobDigestMismatchError extends DigestMismatchError {
  readonly code = 'DIGEST_INVALID';
  /** As RegistryError's: the answer was a 200, its body was wrong. */
  readonly status = 200;
  readonly codes: string[] = ['DIGEST_INVALID'];

  constructor(
    what: string,
    expected: Digest,
    /** What the bytes hash to; undefined when the download stopped because it outgrew the expected size. */
    actual: Digest | undefined,
    /** Bytes received (up to where the download stopped). */
    readonly receivedBytes: number,
    expectedSize?: number,
  ) {
    super(
      `${what}: content`,
      expected,
      actual,
      'The blob is corrupted in the registry or was altered on the way; delete it from the registry (or push it again from a good copy) and fetch it again.',
      actual !== undefined && actual !== expected
        ? undefined
        : `${what}: content does not match its descriptor (expected ${expectedSize ?? '?'} bytes, got ${receivedBytes}${actual === undefined ? ' and more' : ''}).`,
    );
    this.name = 'BlobDigestMismatchError';
  }
}

/** A problem worth another try (a 5xx, 429, or a dropped connection), after the request-level retries ran out. */
export class TransientRegistryError extends RegistryError {}

/** Error codes and messages from a Distribution error body, if it is one. */
export function parseDistributionErrors(body: Buffer): DistributionError[] {
  if (body.length === 0 || body.length > 64 * 1024) return [];
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: DistributionError[] };
    return Array.isArray(parsed.errors) ? parsed.errors.filter((e) => typeof e?.code === 'string') : [];
  } catch {
    return [];
  }
}

export function describeDistributionErrors(errors: DistributionError[]): string {
  return errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
}

/** Removes every known secret from a text that is about to be shown. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}
