import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MultiarchError } from '../errors';

/**
 * Deflates the blocks of a big layer (gzip-blocks.ts) on worker threads, one
 * per core, each block with its CRC-32.
 *
 * Why threads of our own and not zlib's asynchronous calls on libuv's pool:
 * measured on a 1 GiB layer (issue 20), the asynchronous calls cost about a
 * third more CPU than the compression itself, all of it on the JavaScript
 * thread, which is the one that also reads, tars and hashes the layer:
 *   - each block made a new zlib stream with a fresh 1 MiB output buffer and
 *     about 300 KiB of native state, all counted as external memory, so V8
 *     ran a full garbage collection about every 64 MiB of input (76 for
 *     1 GiB, over a second of CPU on V8's helper threads);
 *   - the CRC-32 of every byte was computed on the JavaScript thread.
 * Here a worker deflates with zlib's synchronous call (its garbage stays in
 * the worker's small heap), computes the block's CRC-32, and hands back an
 * output buffer of the output's size; the input buffer travels there and
 * back without a copy and is reused.
 *
 * The bytes are the same as the asynchronous call's: the same zlib, the same
 * options (gzip-blocks.ts decides both, and its probe has checked that zlib
 * gives pako's bytes).
 *
 * The workers start on the first block (a layer over 64 MiB), never for the
 * small layers of a usual image, and do not keep the process alive when idle.
 */
export interface BlockJob {
  /** The block's bytes at the start of `input`'s own ArrayBuffer, which moves to the worker and comes back. */
  input: Buffer;
  length: number;
  /** The 32 KiB of input before the block. */
  dictionary: Buffer;
  /** zlib options: level, flush at the end, output chunk size. */
  level: number;
  finishFlush: number;
  chunkSize: number;
}

export interface BlockResult {
  /** The raw deflate of the block. */
  output: Buffer;
  /** CRC-32 of the block's input. */
  crc: number;
  /** The job's input buffer, back for reuse (its bytes are spent). */
  input: Buffer;
}

/** The messages between the pool and a worker. */
interface JobMessage extends Omit<BlockJob, 'input'> {
  id: number;
  input: ArrayBuffer;
}
type ReplyMessage = { id: number; input: ArrayBuffer } & ({ output: ArrayBuffer; crc: number } | { error: string });

/**
 * The worker's whole program. It is plain JavaScript in a string (run with
 * `eval`) so it loads the same way from the compiled package and from the
 * TypeScript sources the tests run, without a file to locate.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync, crc32 } = require('node:zlib');
parentPort.on('message', ({ id, input, length, dictionary, level, finishFlush, chunkSize }) => {
  try {
    const data = Buffer.from(input, 0, length);
    const deflated = deflateRawSync(data, { level, dictionary, finishFlush, chunkSize });
    // An ArrayBuffer of exactly the output, so only the output crosses back.
    const whole = deflated.byteOffset === 0 && deflated.byteLength === deflated.buffer.byteLength;
    const output = whole ? deflated.buffer : deflated.buffer.slice(deflated.byteOffset, deflated.byteOffset + deflated.byteLength);
    parentPort.postMessage({ id, input, output, crc: crc32(data) }, [input, output]);
  } catch (error) {
    parentPort.postMessage({ id, input, error: String(error && error.message ? error.message : error) }, [input]);
  }
});
`;

/** Each worker needs little heap (one block at a time, its garbage collected there); the limits keep its reserved address space small too. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4, codeRangeSizeMb: 8, stackSizeMb: 1 };

interface Pending {
  resolve: (result: BlockResult) => void;
  reject: (error: Error) => void;
}

class BlockWorker {
  private readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  failed = false;

  constructor() {
    // No execArgv: the worker needs none of the process's flags or preloads (a transpiler hook would not fit its heap).
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: WORKER_LIMITS });
    this.worker.on('message', (reply: ReplyMessage) => this.settle(reply));
    this.worker.on('error', (error: Error) => this.fail(`failed: ${error.message}`));
    this.worker.on('exit', (code: number) => this.fail(`exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  run(id: number, job: BlockJob): Promise<BlockResult> {
    const { input, ...rest } = job;
    // The whole ArrayBuffer moves to the worker: the block must start it (a slice of a shared pool buffer cannot move).
    const buffer = input.buffer as ArrayBuffer;
    if (input.byteOffset !== 0 || buffer.byteLength < job.length) throw new Error('gzip block pool: a job input must start its own ArrayBuffer');
    return new Promise<BlockResult>((resolve, reject) => {
      // Held open while it has work, so the process waits for the blocks it is owed.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const message: JobMessage = { ...rest, id, input: buffer };
      this.worker.postMessage(message, [buffer]);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private settle(reply: ReplyMessage): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in reply) waiter.reject(new MultiarchError(`gzip failed on a layer block: ${reply.error}.`));
    else waiter.resolve({ output: Buffer.from(reply.output), crc: reply.crc, input: Buffer.from(reply.input) });
  }

  private fail(what: string): void {
    if (this.failed) return;
    this.failed = true;
    const error = new MultiarchError(`The gzip worker thread ${what}.`, 'Run the build again; if it keeps failing, set NX_MULTIARCH_GZIP=pako to compress on the main thread.');
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** Workers: one per core, at most four (a block in flight per worker is already more than the disk and the hashing keep up with). */
export function blockWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

let workers: BlockWorker[] = [];
let nextId = 0;

/** Deflates one block on the least busy worker. */
export function deflateBlockOnWorker(job: BlockJob): Promise<BlockResult> {
  workers = workers.filter((worker) => !worker.failed);
  while (workers.length < blockWorkerCount()) workers.push(new BlockWorker());
  const idle = workers.reduce((best, worker) => (worker.pending.size < best.pending.size ? worker : best));
  return idle.run(nextId++, job);
}

/** Stops the workers (tests; a process that ends needs nothing, idle workers do not hold it). */
export async function closeBlockPool(): Promise<void> {
  const stopping = workers;
  workers = [];
  await Promise.all(stopping.map((worker) => worker.terminate()));
}
