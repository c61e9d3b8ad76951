import { createHash } from 'node:crypto';
import type { Readable, Transform } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { createBlockGzip, gzipBlocksSync, type BlockLayout, type Compressor } from './gzip-blocks';

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
 * Inputs over 64 MiB are compressed in blocks on every core (gzip-blocks.ts);
 * up to that size the bytes are those of one plain gzip stream.
 *
 * NX_MULTIARCH_GZIP=pako forces pako (to compare, or to rule the fast path out).
 */
/** Which deflate makes the bytes (they are the same bytes either way). */
export type GzipImplementation = Compressor;

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

/** Blocks small enough that the probe crosses several, so the primed, sync-flushed blocks are checked too. */
const PROBE_BLOCKS: BlockLayout = { first: 64 * 1024, block: 48 * 1024 };

/**
 * SHA-256 of pako's bytes for the probe, as one stream and in PROBE_BLOCKS.
 * They are pako's (the version pinned in package.json) and never change
 * while it does not: gzip.test.ts recomputes them with pako and fails when
 * they differ. Comparing with these rather than running pako on the probe
 * saves each image process about 100 ms of CPU (pako's code is cold in a
 * new process).
 */
export const PAKO_PROBE_SHA256 = {
  stream: '7fc5f8eb89a88578922929684b84182875a6abcff8405f022de16b15bd580786',
  blocks: '2d83b56e98d60bdbdec42e56a6c58bf55ee03dcc82b691444143d79b3785d8ad',
} as const;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** True when `gzip` gives pako's exact bytes on the probe, as one stream and in blocks. */
export function matchesPako(gzip: (data: Buffer, layout?: BlockLayout) => Buffer): boolean {
  const probe = deflateProbe();
  return sha256(gzip(probe)) === PAKO_PROBE_SHA256.stream && sha256(gzip(probe, PROBE_BLOCKS)) === PAKO_PROBE_SHA256.blocks;
}

/** pako's own bytes for the probe: what PAKO_PROBE_SHA256 holds the digests of. */
export function pakoProbeGzip(): { stream: Buffer; blocks: Buffer } {
  const probe = deflateProbe();
  return { stream: gzipWith('pako', probe), blocks: gzipWith('pako', probe, PROBE_BLOCKS) };
}

/** Node's zlib, checked on the probe (a few ms, once per process). */
export function zlibMatchesPako(): boolean {
  return matchesPako((data, layout) => gzipWith('zlib', data, layout));
}

export function gzipWith(implementation: GzipImplementation, data: Buffer, layout?: BlockLayout): Buffer {
  return gzipBlocksSync(implementation, data, layout);
}

export function gzipDeterministic(data: Buffer): Buffer {
  return gzipWith(gzipImplementation(), data);
}

/**
 * The same compressor as a stream: the same bytes as gzipDeterministic for
 * the same input, however the input is cut into chunks. Deflate without
 * flushes (Z_NO_FLUSH) waits for enough lookahead before it decides
 * anything, so chunk boundaries never reach the output, and the block cuts
 * of big inputs are at fixed offsets; the tests check it over many cuts.
 */
export function createDeterministicGzip(): Transform {
  return createGzipStream(gzipImplementation());
}

export function createGzipStream(implementation: GzipImplementation, layout?: BlockLayout): Transform {
  return createBlockGzip(implementation, layout);
}

/** Decompression has one right answer, so Node's zlib (native, fastest) does it. */
export function gunzip(data: Buffer): Buffer {
  return gunzipSync(data);
}

/**
 * A gzip stream decompressed as it is read (an image layer, an archive). A
 * failure of the source fails the output too, so a reader never waits on it.
 */
export function gunzipStream(source: Readable): Readable {
  const gunzip = createGunzip();
  source.on('error', (error) => gunzip.destroy(error));
  return source.pipe(gunzip);
}
