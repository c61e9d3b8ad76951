import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { MultiarchError } from '../errors';
import type { Digest } from './types';

/**
 * A sha256 fed chunk by chunk whose result is known at the end: on the
 * JavaScript thread for small inputs, on a worker thread for big ones.
 *
 * Why a worker: a big layer's write runs tar, the gzip block dispatch and
 * three hashes on the JavaScript thread, while libuv's pool deflates blocks
 * on every core. With fair scheduling on 2 cores the JavaScript thread gets
 * about half a core and sets the pace; the diff_id's sha256 of the whole
 * uncompressed tar was half of its CPU (about 0.5 s per GiB with SHA-NI).
 * Node has no incremental hash on the pool (webcrypto's digest is one-shot),
 * so a worker it is. A chunk is copied to hand it over (the original goes on
 * to gzip): about 40 µs per MiB, against about 500 µs to hash it.
 */
export interface StreamHash {
  /** Adds bytes; resolves when the hash may take more (the worker's backlog is bounded). */
  update(chunk: Buffer): Promise<void> | undefined;
  /** The digest of everything given; the hash is spent after it. */
  digest(): Promise<Digest>;
  /** Stops the hash without a result (the write failed); never throws. */
  abort(): void;
}

/** Inputs from this size are hashed on a worker: the size from which layers are deflated in blocks too. */
export const OFF_THREAD_HASH_MIN_BYTES = 64 * 1024 * 1024;

/** Bytes handed to the worker at a time. */
const BATCH_BYTES = 2 * 1024 * 1024;
/** Batches at the worker before update waits: memory stays bounded (4 x 2 MiB), and they are reused. */
const MAX_BATCHES = 4;

/**
 * The worker: hashes the first `length` bytes of each batch it is given and
 * hands the batch back (moved, not copied) for reuse; to `null` it answers
 * the digest and ends.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (message) => {
  if (message === null) {
    parentPort.postMessage({ digest: hash.digest('hex') });
    parentPort.close();
    return;
  }
  hash.update(new Uint8Array(message.batch, 0, message.length));
  parentPort.postMessage({ batch: message.batch }, [message.batch]);
});
`;

function onThreadHash(): StreamHash {
  const hash = createHash('sha256');
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => `sha256:${hash.digest('hex')}`,
    abort: () => undefined,
  };
}

function workerHash(): StreamHash {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  let failure: Error | undefined;
  let finish: { resolve: (digest: Digest) => void; reject: (error: Error) => void } | undefined;
  // Batches back from the worker, and whoever waits for one.
  const free: ArrayBuffer[] = [];
  let atWorker = 0;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const go = waiting;
    waiting = undefined;
    go?.();
  };
  const fail = (error: Error) => {
    failure ??= error;
    wake();
    finish?.reject(failure);
  };
  worker.on('message', (message: { batch?: ArrayBuffer; digest?: string }) => {
    if (message.digest !== undefined) finish?.resolve(`sha256:${message.digest}`);
    if (message.batch) {
      atWorker -= 1;
      free.push(message.batch);
      wake();
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new MultiarchError(`The hashing thread stopped (exit code ${code}) before it gave the digest.`)));
  const check = () => {
    if (failure) throw failure;
  };
  // Chunks are copied into the current batch; a full batch moves to the worker.
  let batch: Uint8Array | undefined;
  let filled = 0;
  const send = () => {
    const full = (batch as Uint8Array).buffer as ArrayBuffer;
    worker.postMessage({ batch: full, length: filled }, [full]);
    atWorker += 1;
    batch = undefined;
    filled = 0;
  };
  return {
    update(chunk) {
      check();
      for (let at = 0; at < chunk.length; ) {
        if (!batch) {
          const reused = free.pop();
          // New ones are allocated only until MAX_BATCHES are in use (more only for a chunk bigger than that).
          batch = reused ? new Uint8Array(reused) : new Uint8Array(BATCH_BYTES);
        }
        const piece = chunk.subarray(at, at + BATCH_BYTES - filled);
        batch.set(piece, filled);
        filled += piece.length;
        at += piece.length;
        if (filled === BATCH_BYTES) send();
      }
      if (atWorker < MAX_BATCHES) return undefined;
      return new Promise<void>((resolve) => (waiting = resolve)).then(check);
    },
    digest() {
      check();
      if (filled > 0) send();
      return new Promise<Digest>((resolve, reject) => {
        finish = { resolve, reject };
        worker.postMessage(null);
      });
    },
    abort() {
      failure ??= new MultiarchError('The hash was abandoned.');
      void worker.terminate();
    },
  };
}

/** A hash for `expectedBytes` of input: off the JavaScript thread from OFF_THREAD_HASH_MIN_BYTES on. */
export function createStreamHash(expectedBytes: number): StreamHash {
  return expectedBytes >= OFF_THREAD_HASH_MIN_BYTES ? workerHash() : onThreadHash();
}
