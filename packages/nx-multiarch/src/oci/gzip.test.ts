import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as pako from 'pako';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createHash } from 'node:crypto';
import { deflateProbe, gunzip, gzipDeterministic, gzipImplementation, gzipWith, matchesPako, PAKO_PROBE_SHA256, pakoProbeGzip } from './gzip';
import { createBlockGzip, gzipBlocksSync, type BlockLayout } from './gzip-blocks';

describe('deterministic gzip', () => {
  it('gives pako\'s bytes from Node\'s zlib on real inputs: a machine-code binary and this package\'s sources', () => {
    const binary = readFileSync(process.execPath).subarray(0, 4 * 1024 * 1024);
    const sources = Buffer.concat(['gzip.ts', 'layer.ts', 'tar.ts', 'layout.ts'].map((name) => readFileSync(join(__dirname, name))));
    for (const input of [binary, sources, deflateProbe(), Buffer.alloc(0)]) {
      expect(gzipWith('zlib', input).equals(gzipWith('pako', input))).toBe(true);
    }
  });

  it('takes the fast path only where the probe proves the bytes, and the probe catches a deflate that differs', () => {
    // Settings that keep the format but change which matches deflate finds: each must fail the probe.
    expect(matchesPako((data) => gzipSync(data, { level: 5 }))).toBe(false);
    expect(matchesPako((data) => gzipSync(data, { level: 6, memLevel: 9 }))).toBe(false);
    expect(matchesPako((data) => Buffer.from(pako.gzip(data, { level: 6, strategy: 1 })))).toBe(false);
    expect(matchesPako((data, layout) => gzipWith('zlib', data, layout))).toBe(true);
    // On this machine Node's zlib passes, so layers are compressed natively.
    expect(gzipImplementation()).toBe('zlib');
  });

  it('holds the digests of pako\'s own bytes for the probe (the pinned pako makes them; a new pako version must update them)', () => {
    const { stream, blocks } = pakoProbeGzip();
    const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    expect({ stream: sha256(stream), blocks: sha256(blocks) }).toEqual(PAKO_PROBE_SHA256);
    // pako itself passes the probe; a single changed byte does not.
    expect(matchesPako((data, layout) => gzipWith('pako', data, layout))).toBe(true);
    expect(matchesPako((data, layout) => Buffer.concat([gzipWith('pako', data, layout).subarray(0, -1), Buffer.from([0x55])]))).toBe(false);
  });

  it('falls back to pako when NX_MULTIARCH_GZIP=pako, with the same bytes', () => {
    const script = `const g = require(${JSON.stringify(join(__dirname, 'gzip.ts'))}); process.stdout.write(g.gzipImplementation() + ' ' + g.gzipDeterministic(g.deflateProbe()).toString('base64'))`;
    const run = spawnSync(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', script], {
      env: { ...process.env, NX_MULTIARCH_GZIP: 'pako' },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    const [implementation, bytes] = run.stdout.split(' ');
    expect(implementation).toBe('pako');
    expect(Buffer.from(bytes, 'base64').equals(gzipDeterministic(deflateProbe()))).toBe(true);
  });

  it('decompresses what it compresses, and names a corrupt stream', () => {
    const data = deflateProbe();
    expect(gunzip(gzipDeterministic(data)).equals(data)).toBe(true);
    expect(() => gunzip(Buffer.from('not gzip'))).toThrow(/incorrect header check/);
  });
});

describe('gzip in blocks (inputs over the leading stream)', () => {
  // Small blocks, so a few hundred KiB cross many cuts; the production layout is the same code with bigger numbers.
  const layout: BlockLayout = { first: 96 * 1024, block: 40 * 1024 };
  const input = Buffer.concat([deflateProbe(), deflateProbe().subarray(1000, 90000), Buffer.alloc(70000, 7)]);

  async function streamed(compressor: 'zlib' | 'pako', data: Buffer, cut: number, inFlight: number): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length; at += cut) pieces.push(data.subarray(at, at + cut));
    return buffer(Readable.from(pieces).pipe(createBlockGzip(compressor, layout, inFlight)));
  }

  it('gives the same bytes from zlib and pako, streamed in any cuts with any number of blocks at once, as the one-shot form', async () => {
    const reference = gzipBlocksSync('pako', input, layout);
    expect(gzipBlocksSync('zlib', input, layout).equals(reference)).toBe(true);
    for (const [cut, inFlight] of [[1 << 20, 1], [4093, 3], [65536, 2], [40 * 1024, 3], [96 * 1024 + 1, 1]]) {
      for (const compressor of ['zlib', 'pako'] as const) {
        expect((await streamed(compressor, input, cut, inFlight)).equals(reference)).toBe(true);
      }
    }
  });

  it('is one gzip member that Node and the gzip command read back to the input', () => {
    const blocks = gzipBlocksSync('zlib', input, layout);
    expect(gunzip(blocks).equals(input)).toBe(true);
    const tool = spawnSync('gzip', ['-dc'], { input: blocks, maxBuffer: 16 * 1024 * 1024 });
    expect(tool.status).toBe(0);
    expect(tool.stdout.equals(input)).toBe(true);
  });

  it('keeps the bytes of one plain gzip stream up to the leading stream\'s size, even at exactly that size', async () => {
    for (const size of [0, 1, layout.first - 1, layout.first]) {
      const data = input.subarray(0, size);
      expect(gzipBlocksSync('zlib', data, layout).equals(gzipSync(data, { level: 6 }))).toBe(true);
      expect((await streamed('zlib', data, 5000, 2)).equals(gzipSync(data, { level: 6 }))).toBe(true);
    }
    // One byte more and the blocks begin: still a valid member, other bytes.
    const over = input.subarray(0, layout.first + 1);
    expect(gzipBlocksSync('zlib', over, layout).equals(gzipSync(over, { level: 6 }))).toBe(false);
    expect(gunzip(gzipBlocksSync('zlib', over, layout)).equals(over)).toBe(true);
  });

  it('lets go of its compressor when the write is abandoned midway, with no error of its own', async () => {
    for (const compressor of ['zlib', 'pako'] as const) {
      const stream = createBlockGzip(compressor, layout, 2);
      const errors: Error[] = [];
      stream.on('error', (error) => errors.push(error));
      stream.resume();
      stream.write(input.subarray(0, 200 * 1024));
      const closed = new Promise((resolve) => stream.on('close', resolve));
      stream.destroy();
      await closed;
      expect(errors).toEqual([]);
    }
  });

  it('streams 68 MiB past the production layout\'s 64 MiB leading stream to the one-shot bytes, which read back', async () => {
    // Runs of one byte up to the cut, then 5 MiB of machine code across it and into the 1 MiB blocks.
    const big = Buffer.concat([Buffer.alloc(63 * 1024 * 1024, 1), readFileSync(process.execPath).subarray(0, 5 * 1024 * 1024)]);
    const oneShot = gzipBlocksSync('zlib', big);
    const pieces: Buffer[] = [];
    for (let at = 0; at < big.length; at += 1024 * 1024 + 3) pieces.push(big.subarray(at, at + 1024 * 1024 + 3));
    expect((await buffer(Readable.from(pieces).pipe(createBlockGzip('zlib')))).equals(oneShot)).toBe(true);
    expect(gunzip(oneShot).equals(big)).toBe(true);
  }, 120_000);
});
