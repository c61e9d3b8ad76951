import { Transform, type TransformCallback } from 'node:stream';
import { once } from 'node:events';
import { constants, crc32, createGzip, deflateRawSync, gzipSync, type ZlibOptions } from 'node:zlib';
import * as pako from 'pako';
import { MultiarchError } from '../errors';
import { crc32Combine } from './crc32-combine';
import { blockWorkerCount, deflateBlockOnWorker } from './gzip-block-pool';

/**
 * Deterministic gzip that compresses big inputs on every core, as pigz does,
 * with bytes that depend only on the input:
 *
 * - The first `first` bytes (64 MiB) are one deflate stream, exactly today's
 *   single-stream gzip. An input no longer than that gives the very bytes of
 *   a plain `gzip -6` of zlib's algorithm, so no existing image's digest
 *   moves.
 * - Past that, the input is cut into `block`-sized pieces (1 MiB). Each is
 *   deflated on its own, primed with the 32 KiB before it as the dictionary
 *   (so matches reach back across the cut, as in one stream) and ended with a
 *   sync flush (byte-aligned, not final); the last ends with a finish. The
 *   pieces concatenate into one valid deflate stream inside one gzip member
 *   (header from the first stream, CRC-32 and length written here), which
 *   every gunzip reads. With zlib the blocks run on worker threads
 *   (gzip-block-pool.ts), each bringing its own CRC-32, joined here in order.
 *
 * The cut points are fixed numbers, never "what arrived": the bytes do not
 * depend on how the input is chunked, on how many blocks are compressed at
 * once, or on the machine's core count.
 */
export interface BlockLayout {
  /** Bytes of the leading single stream. */
  first: number;
  /** Bytes of each later block (the last may be shorter). */
  block: number;
}

export const LAYER_BLOCKS: BlockLayout = { first: 64 * 1024 * 1024, block: 1024 * 1024 };

/** deflate's window: the dictionary of a block is the input's last 32 KiB before it. */
const WINDOW = 32 * 1024;
const LEVEL = 6;
/** Output pieces handed over at a time by the streaming compressors. */
const OUTPUT_CHUNK = 256 * 1024;

export type Compressor = 'zlib' | 'pako';

function checkLayout(layout: BlockLayout): void {
  if (layout.first < WINDOW || layout.block < WINDOW) throw new MultiarchError(`gzip blocks must be at least ${WINDOW} bytes.`);
}

/** gzip's 8-byte trailer: CRC-32 and length mod 2^32 of the whole input, little-endian. */
function trailer(crc: number, length: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(crc >>> 0, 0);
  out.writeUInt32LE(length % 2 ** 32, 4);
  return out;
}

/** How a piece ends: a sync flush when more follows, a finish when it is the last. */
const zlibFlush = (last: boolean) => (last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH);
const pakoFlush = (last: boolean) => (last ? pako.Z_FINISH : pako.Z_SYNC_FLUSH);

/** pako's push, with its failure as an error (pako reports it by return value). */
function pakoPush(deflate: pako.Deflate, data: Uint8Array, flush: pako.Z_FlushMode | boolean): void {
  if (!deflate.push(data, flush)) throw new MultiarchError(`gzip failed (pako status ${deflate.err}: ${deflate.msg || 'no message'}).`);
}

function pakoRun(deflate: pako.Deflate, data: Uint8Array, last: boolean): Buffer {
  const parts: Uint8Array[] = [];
  deflate.onData = (chunk: Uint8Array) => parts.push(chunk);
  pakoPush(deflate, data, pakoFlush(last));
  return Buffer.concat(parts);
}

/** The leading stream, whole: gzip header plus deflate, sync-flushed (more follows) or finished (with zlib's own trailer). */
function headSync(compressor: Compressor, data: Buffer, last: boolean): Buffer {
  if (compressor === 'zlib') return gzipSync(data, { level: LEVEL, finishFlush: zlibFlush(last) });
  return pakoRun(new pako.Deflate({ level: LEVEL, gzip: true }), data, last);
}

/**
 * One output buffer holds a whole block's deflate (at most its input plus a
 * few bytes per 16 KiB), so zlib fills it in one call. The size of the pieces
 * never changes the bytes.
 */
const BLOCK_OUTPUT_CHUNK = 1024 * 1024 + 64 * 1024;

function blockOptions(dictionary: Buffer, last: boolean): ZlibOptions {
  return { level: LEVEL, dictionary, finishFlush: zlibFlush(last), chunkSize: BLOCK_OUTPUT_CHUNK };
}

/** One later block: raw deflate primed with `dictionary`. */
function blockSync(compressor: Compressor, data: Buffer, dictionary: Buffer, last: boolean): Buffer {
  if (compressor === 'zlib') return deflateRawSync(data, blockOptions(dictionary, last));
  return pakoRun(new pako.Deflate({ level: LEVEL, raw: true, dictionary }), data, last);
}

/** A compressed block, with what the gzip trailer needs of its input. */
interface DoneBlock {
  output: Buffer;
  crc: number;
  length: number;
}

/**
 * One block of `input` (its first `length` bytes; `input` starts its own
 * ArrayBuffer) compressed on a worker thread (zlib), so several run at once;
 * pako runs it here. `reuse` gets the input buffer back once it is spent.
 */
function blockAsync(compressor: Compressor, input: Buffer, length: number, dictionary: Buffer, last: boolean, reuse: (input: Buffer) => void): Promise<DoneBlock> {
  if (compressor === 'pako') {
    const data = input.subarray(0, length);
    const done = { output: blockSync(compressor, data, dictionary, last), crc: crc32(data), length };
    reuse(input);
    return Promise.resolve(done);
  }
  return deflateBlockOnWorker({ input, length, dictionary, level: LEVEL, finishFlush: zlibFlush(last), chunkSize: BLOCK_OUTPUT_CHUNK }).then((result) => {
    reuse(result.input);
    return { output: result.output, crc: result.crc, length };
  });
}

/** The whole algorithm on a buffer: the reference the stream must match byte for byte. */
export function gzipBlocksSync(compressor: Compressor, data: Buffer, layout: BlockLayout = LAYER_BLOCKS): Buffer {
  checkLayout(layout);
  if (data.length <= layout.first) return headSync(compressor, data, true);
  const parts = [headSync(compressor, data.subarray(0, layout.first), false)];
  for (let at = layout.first; at < data.length; at += layout.block) {
    const end = Math.min(data.length, at + layout.block);
    parts.push(blockSync(compressor, data.subarray(at, end), data.subarray(at - WINDOW, at), end === data.length));
  }
  parts.push(trailer(crc32(data), data.length));
  return Buffer.concat(parts);
}

/** The leading stream as it arrives: one compressor fed piece by piece, its output passed straight on. */
interface HeadStream {
  write(piece: Buffer): Promise<void>;
  /** Ends the leading stream with a sync flush (more blocks follow); resolves once all its output is passed on. */
  cut(): Promise<void>;
  /** Ends it with a finish and its own trailer: the whole input was the leading stream. */
  finish(): Promise<void>;
  /** Lets go of the compressor at once, output or not: the layer write was abandoned. */
  abort(): void;
}

function zlibHead(emit: (chunk: Buffer) => void): HeadStream {
  const gzip = createGzip({ level: LEVEL, chunkSize: OUTPUT_CHUNK });
  let failure: Error | undefined;
  gzip.on('data', emit);
  gzip.on('error', (error: Error) => (failure = error));
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async write(piece) {
      check();
      if (!gzip.write(piece)) await once(gzip, 'drain');
      check();
    },
    async cut() {
      check();
      // The flush's callback runs after the output of everything written before it was pushed.
      await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
      check();
      gzip.removeListener('data', emit);
      gzip.destroy();
    },
    async finish() {
      check();
      const ended = once(gzip, 'end');
      gzip.end();
      await ended;
    },
    abort: () => gzip.destroy(),
  };
}

function pakoHead(emit: (chunk: Buffer) => void): HeadStream {
  const deflate = new pako.Deflate({ level: LEVEL, gzip: true, chunkSize: OUTPUT_CHUNK });
  // pako reuses nothing it hands over, so a view without a copy is safe.
  deflate.onData = (chunk: Uint8Array) => emit(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  deflate.onEnd = () => undefined;
  return {
    write: async (piece) => pakoPush(deflate, piece, false),
    cut: async () => pakoPush(deflate, new Uint8Array(0), pakoFlush(false)),
    finish: async () => pakoPush(deflate, new Uint8Array(0), pakoFlush(true)),
    abort: () => undefined,
  };
}

/**
 * Blocks compressed at once: one more than the workers, so each worker finds
 * its next block waiting when it finishes one (each in flight holds about
 * 2 MiB). tools/bench/gzip-blocks.sh measures the choice.
 */
function defaultInFlight(): number {
  return blockWorkerCount() + 1;
}

/** gzipBlocksSync as a stream: the same bytes, however the input is cut and however many blocks run at once. */
export function createBlockGzip(compressor: Compressor, layout: BlockLayout = LAYER_BLOCKS, inFlight = defaultInFlight()): Transform {
  checkLayout(layout);
  let total = 0;
  let crc = 0;
  let head: HeadStream | undefined;
  let window = Buffer.alloc(0);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  const queue: Promise<DoneBlock>[] = [];
  let out: Transform | undefined;
  const emit = (chunk: Buffer) => void out?.push(chunk);
  head = compressor === 'zlib' ? zlibHead(emit) : pakoHead(emit);

  /** The last WINDOW bytes of all input so far: the next block's dictionary. */
  const remember = (piece: Buffer) => {
    window = piece.length >= WINDOW ? Buffer.from(piece.subarray(piece.length - WINDOW)) : Buffer.concat([window, piece]).subarray(-WINDOW);
  };
  // Block inputs are reused once deflated: a fresh 1 MiB per block would be garbage outside V8's heap,
  // and each 64 MiB of it costs a full collection.
  const spare: Buffer[] = [];
  // Blocks leave in input order, each one's CRC-32 joined to the whole input's.
  const emitOldest = async () => {
    const block = await (queue.shift() as Promise<DoneBlock>);
    emit(block.output);
    crc = crc32Combine(crc, block.crc, block.length);
  };
  const dispatch = async (last: boolean) => {
    // Its own ArrayBuffer, so it can move to a worker thread without a copy.
    const input = spare.pop() ?? Buffer.from(new ArrayBuffer(layout.block));
    let filled = 0;
    for (const piece of pending) filled += piece.copy(input, filled);
    pending = [];
    pendingLength = 0;
    const dictionary = window;
    // Remembered before the block leaves: once it is on a worker, this thread cannot read it.
    remember(input.subarray(0, filled));
    const block = blockAsync(compressor, input, filled, dictionary, last, (back) => spare.push(back));
    // Awaited in order later; a failure of a block behind the one awaited must not count as unhandled meanwhile.
    block.catch(() => undefined);
    queue.push(block);
    while (queue.length >= inFlight || (last && queue.length > 0)) await emitOldest();
  };

  const consume = async (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (head) {
        const room = layout.first - total;
        if (room === 0) {
          // A byte past the leading stream: it ends here with a sync flush.
          await head.cut();
          head = undefined;
          continue;
        }
        const piece = chunk.subarray(offset, offset + room);
        await head.write(piece);
        remember(piece);
        crc = crc32(piece, crc);
        offset += piece.length;
        total += piece.length;
        continue;
      }
      const room = layout.block - pendingLength;
      if (room === 0) {
        await dispatch(false);
        continue;
      }
      const piece = chunk.subarray(offset, offset + room);
      pending.push(piece);
      pendingLength += piece.length;
      offset += piece.length;
      total += piece.length;
    }
  };

  out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      consume(chunk).then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      const end = async () => {
        if (head) return head.finish();
        await dispatch(true);
        emit(trailer(crc, total));
      };
      end().then(() => callback(), callback);
    },
    destroy(error: Error | null, callback: (error: Error | null) => void) {
      // A failed or abandoned write (full disk, changed file): free zlib's native state now, not at GC.
      head?.abort();
      callback(error);
    },
  });
  return out;
}
