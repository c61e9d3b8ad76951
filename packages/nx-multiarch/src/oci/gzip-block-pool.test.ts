import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { deflateProbe } from './gzip';
import { closeBlockPool, deflateBlockOnWorker, type BlockJob } from './gzip-block-pool';

/** A block in a buffer that starts its own ArrayBuffer, as gzip-blocks.ts makes them. */
function ownBuffer(data: Buffer, capacity = data.length): Buffer {
  const buffer = Buffer.from(new ArrayBuffer(capacity));
  data.copy(buffer);
  return buffer;
}

const CHUNK = 1024 * 1024 + 64 * 1024;

function job(data: Buffer, dictionary: Buffer, last: boolean, level = 6): BlockJob {
  return { input: ownBuffer(data, Math.max(64 * 1024, data.length)), length: data.length, dictionary, level, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH, chunkSize: CHUNK };
}

describe('gzip block pool (worker threads)', () => {
  afterAll(() => closeBlockPool());

  it('gives the bytes and CRC-32 of zlib on this thread, for many blocks at once, and hands each input buffer back', async () => {
    const probe = deflateProbe();
    const blocks = Array.from({ length: 8 }, (_, i) => ({ data: probe.subarray(32 * 1024 + i * 20_000, 32 * 1024 + (i + 1) * 20_000 + i), dictionary: probe.subarray(i * 20_000, i * 20_000 + 32 * 1024), last: i === 7 }));
    const results = await Promise.all(blocks.map((block) => deflateBlockOnWorker(job(block.data, block.dictionary, block.last))));
    results.forEach((result, i) => {
      const { data, dictionary, last } = blocks[i];
      const expected = deflateRawSync(data, { level: 6, dictionary, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH, chunkSize: CHUNK });
      expect(result.output.equals(expected)).toBe(true);
      expect(result.crc).toBe(crc32(data));
      expect(result.input.length).toBe(64 * 1024);
    });
  });

  it('reports a block zlib refuses as an error naming zlib\'s reason, and keeps working', async () => {
    const data = deflateProbe().subarray(0, 40_000);
    await expect(deflateBlockOnWorker(job(data, Buffer.alloc(0), true, 42))).rejects.toThrow(/gzip failed on a layer block: .*level/i);
    const again = await deflateBlockOnWorker(job(data, Buffer.alloc(0), true));
    expect(again.output.equals(deflateRawSync(data, { level: 6 }))).toBe(true);
  });

  it('refuses an input that does not start its own ArrayBuffer (it could not move to the worker)', () => {
    const shared = Buffer.from(new ArrayBuffer(4096));
    expect(() => deflateBlockOnWorker({ ...job(Buffer.alloc(10), Buffer.alloc(0), true), input: shared.subarray(16) })).toThrow(/must start its own ArrayBuffer/);
  });

  it('fails the blocks a worker still owes when it stops, instead of waiting forever', async () => {
    // 8 MiB: far longer to deflate than the worker takes to stop.
    const big = Buffer.concat(Array.from({ length: 32 }, () => deflateProbe()));
    const failed = expect(deflateBlockOnWorker(job(big, Buffer.alloc(0), true))).rejects.toThrow(/gzip worker thread exited/);
    await closeBlockPool();
    await failed;
  });

  it('does not keep a process alive once its blocks are done, whether every worker had work or only one', () => {
    // A process that compresses a blocked input and never closes the pool must still end on its own.
    const roundTrip = (size: number) => `
      const { createBlockGzip } = require(${JSON.stringify(join(__dirname, 'gzip-blocks.ts'))});
      const { gunzipSync } = require('node:zlib');
      const input = Buffer.alloc(${size}, 3);
      const parts = [];
      const gzip = createBlockGzip('zlib', { first: 64 * 1024, block: 48 * 1024 });
      gzip.on('data', (chunk) => parts.push(chunk));
      gzip.on('end', () => process.stdout.write(gunzipSync(Buffer.concat(parts)).equals(input) ? 'same' : 'differs'));
      gzip.end(input);
    `;
    // One block past the leading stream: one worker gets it, the others start and never get work.
    for (const size of [64 * 1024 + 100, 300 * 1024]) {
      const run = spawnSync(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', roundTrip(size)], { encoding: 'utf8', timeout: 60_000 });
      expect(run.error).toBeUndefined();
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('same');
      expect(run.status).toBe(0);
    }
  });
});
