import * as pako from 'pako';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { MultiarchError } from '../errors';

/**
 * Deterministic gzip. The bytes are defined by one pinned pure-JavaScript
 * compressor, pako (exact version in the lockfile; no CPU-dependent path),
 * because a layer's digest is the hash of these bytes.
 *
 * Node's own zlib runs the same algorithm (pako is a port of zlib's deflate)
 * two to three times faster, and off the JavaScript thread, but nothing the
 * plugin pins fixes its output: Node bundles Chromium's fork of zlib, which
 * has CPU-specific code and changes with Node releases. So Node's zlib is used
 * only after it has shown, in this process, that it gives pako's exact bytes
 * on a probe that takes deflate's main paths (see zlibMatchesPako); otherwise
 * pako does the work. Either way the output is pako's bytes.
 *
 * NX_MULTIARCH_GZIP=pako forces pako (to compare, or to rule the fast path out).
 */
const LEVEL = 6;

/** Output pieces handed over at a time: large enough that the per-chunk cost vanishes, small enough to stay a stream. */
const OUTPUT_CHUNK = 256 * 1024;

export type GzipImplementation = 'zlib' | 'pako';

let chosen: GzipImplementation | undefined;

/** Which compressor makes the bytes in this process: decided once, on first use. */
export function gzipImplementation(): GzipImplementation {
  if (chosen === undefined) chosen = process.env.NX_MULTIARCH_GZIP !== 'pako' && zlibMatchesPako() ? 'zlib' : 'pako';
  return chosen;
}

/**
 * The probe: 256 KiB that make deflate take each of its paths at level 6 —
 * incompressible noise (literals), text over a small vocabulary (matches at
 * many distances, lazy evaluation), long runs (maximum-length matches), and
 * several 32 KiB windows (the window slide). A deflate whose hashing or
 * match search differs from zlib's reference gives other bytes here.
 */
export function deflateProbe(): Buffer {
  const out = Buffer.alloc(256 * 1024);
  const words = ['linkerd', 'proxy', 'init', '\x00\x00\x00\x00', 'sha256:', 'GLIBC_2.34', ' ', '\n', 'arm64', 'amd64', '\xff\xfe'];
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let at = 0;
  while (at < out.length) {
    const kind = next() % 4;
    const length = 64 + (next() % 4096);
    for (let i = 0; i < length && at < out.length; i++) {
      if (kind === 0) out[at++] = next() & 0xff;
      else if (kind === 1) at += out.write(words[next() % words.length], at, 'latin1');
      else if (kind === 2) out[at++] = 0;
      else out[at++] = (next() & 0x0f) + (i % 3 === 0 ? 0x48 : 0);
    }
  }
  return out;
}

/** True when `gzip` gives pako's exact bytes on the probe. */
export function matchesPako(gzip: (data: Buffer) => Buffer): boolean {
  const probe = deflateProbe();
  return gzip(probe).equals(gzipWith('pako', probe));
}

/** Node's zlib, checked on the probe (about 25 ms, once per process). */
export function zlibMatchesPako(): boolean {
  return matchesPako((data) => gzipWith('zlib', data));
}

export function gzipWith(implementation: GzipImplementation, data: Buffer): Buffer {
  return implementation === 'zlib' ? gzipSync(data, { level: LEVEL }) : Buffer.from(pako.gzip(data, { level: LEVEL }));
}

export function gzipDeterministic(data: Buffer): Buffer {
  return gzipWith(gzipImplementation(), data);
}

/**
 * The same compressor as a stream: the same bytes as gzipDeterministic for
 * the same input, however the input is cut into chunks. That holds because
 * deflate without flushes (Z_NO_FLUSH) waits for enough lookahead before it
 * decides anything, so chunk boundaries never reach the output; the test
 * checks it against the one-shot form over many cuts.
 */
export function createDeterministicGzip(): Transform {
  return createGzipStream(gzipImplementation());
}

export function createGzipStream(implementation: GzipImplementation): Transform {
  if (implementation === 'zlib') return createGzip({ level: LEVEL, chunkSize: OUTPUT_CHUNK, flush: constants.Z_NO_FLUSH });
  return createPakoGzip();
}

function createPakoGzip(): Transform {
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

/** Decompression has one right answer, so Node's zlib (native, fastest) does it. */
export function gunzip(data: Buffer): Buffer {
  return gunzipSync(data);
}
