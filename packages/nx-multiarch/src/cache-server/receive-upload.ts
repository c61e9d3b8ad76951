import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../oci/types';
import { ownerTag } from '../util/stale-temp';
import type { ReceivedUpload } from './storage';

/** The body grew past the size limit while it streamed (no Content-Length, or a lying one). */
export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`upload exceeds ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}

/** The client stopped before sending every byte it announced. */
export class IncompleteUploadError extends Error {
  constructor(
    readonly received: number,
    readonly expected: number | undefined,
  ) {
    super(expected === undefined ? `upload cut short after ${received} bytes` : `upload cut short: ${received} of ${expected} bytes`);
    this.name = 'IncompleteUploadError';
  }
}

/**
 * Streams a request body into a new file of `dir`, hashing and counting on
 * the way, so no entry is ever held in memory. The file is flushed to disk
 * before this resolves. A body that is cut short or grows past `limit` leaves
 * no file behind: a partial upload must never become an entry (Nx cannot
 * repair one, since a later upload of the same hash gets 409).
 */
export async function receiveUpload(request: IncomingMessage, dir: string, limit: number): Promise<ReceivedUpload> {
  // The name carries this server's host and pid: after a kill -9, the next start removes it at once.
  const path = join(dir, `upload-${randomBytes(8).toString('hex')}-${ownerTag()}-${randomBytes(3).toString('hex')}`);
  const expected = declaredLength(request);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      if (size > limit) {
        done(new UploadTooLargeError(limit));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(request, meter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
    // Node ends a request stream quietly when the socket closes mid-body; check the count.
    if (!request.complete || (expected !== undefined && size !== expected)) {
      throw new IncompleteUploadError(size, expected);
    }
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { path, size, digest: `sha256:${hash.digest('hex')}` as Digest };
  } catch (error) {
    await rm(path, { force: true });
    if (error instanceof UploadTooLargeError) throw error;
    if (error instanceof IncompleteUploadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || request.destroyed) {
      throw new IncompleteUploadError(size, expected);
    }
    throw error;
  }
}

/** Reads and discards a body we will not store, so the client sees our answer on an intact connection. */
export async function drainBody(request: IncomingMessage): Promise<void> {
  if (request.complete) return;
  try {
    for await (const chunk of request) void chunk;
  } catch {
    // A client that hangs up during a refusal needs no answer.
  }
}

export function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
