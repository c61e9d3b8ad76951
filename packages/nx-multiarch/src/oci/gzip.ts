import * as pako from 'pako';
import { Transform, type TransformCallback } from 'node:stream';
import { MultiarchError } from '../errors';

/**
 * gzip with one pinned pure-JavaScript compressor (pako, exact version in the
 * lockfile) instead of Node's zlib, whose output may change between Node
 * versions and so change layer digests. Header mtime is 0 and the OS byte is
 * fixed by pako, so the bytes depend only on the input.
 */
const LEVEL = 6;

export function gzipDeterministic(data: Buffer): Buffer {
  return Buffer.from(pako.gzip(data, { level: LEVEL }));
}

/** Output pieces pako hands over at a time: large enough that the per-chunk cost vanishes, small enough to stay a stream. */
const OUTPUT_CHUNK = 256 * 1024;

/**
 * The same compressor as a stream: the same bytes as gzipDeterministic for
 * the same input, however the input is cut into chunks. That holds because
 * deflate without flushes (Z_NO_FLUSH) waits for enough lookahead before it
 * decides anything, so chunk boundaries never reach the output; the test
 * checks it against the one-shot form over many cuts.
 */
export function createDeterministicGzip(): Transform {
  const deflate = new pako.Deflate({ level: LEVEL, gzip: true, chunkSize: OUTPUT_CHUNK });
  let out: Transform | undefined;
  const fail = (when: string): Error => new MultiarchError(`gzip failed while ${when} (pako status ${deflate.err}: ${deflate.msg || 'no message'}).`);
  deflate.onData = (chunk: Uint8Array) => {
    // pako reuses nothing it hands over, so a view without a copy is safe.
    out?.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  };
  deflate.onEnd = () => undefined;
  out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      callback(deflate.push(chunk, false) ? null : fail('compressing'));
    },
    flush(callback: TransformCallback) {
      callback(deflate.push(new Uint8Array(0), true) ? null : fail('finishing'));
    },
  });
  return out;
}

export function gunzip(data: Buffer): Buffer {
  return Buffer.from(pako.ungzip(data));
}
