import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzipStream, gzipDeterministic, type GzipImplementation } from './gzip';
import { buildLayer, writeLayer, type LayerEntry } from './layer';
import { OciLayoutReader, OciLayoutWriter, blobPath } from './layout';
import { FileChangedError, statFileSource } from './file-source';
import { DigestMismatchError } from './digest';

/** Deterministic pseudo-random bytes: part noise (incompressible), part text (long matches). */
function sample(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 4096 < 1024 ? x & 0xff : 97 + ((i >> 7) % 23);
  }
  return out;
}

async function gzipInPieces(implementation: GzipImplementation, data: Buffer, cuts: number[]): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    pieces.push(data.subarray(at, Math.min(data.length, at + cut)));
    at += cut;
    if (at >= data.length) break;
  }
  if (at < data.length) pieces.push(data.subarray(at));
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(pieces).pipe(createGzipStream(implementation))) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('streaming layers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-layer-stream-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each<GzipImplementation>(['pako', 'zlib'])('gzips with %s to the same bytes as the one-shot compressor however the input is cut', async (implementation) => {
    const data = sample(7, 1024 * 1024 + 17);
    const expected = gzipDeterministic(data);
    for (const cuts of [[1, 9999], [65536], [1, 2, 3, 65535, 1 << 20], [4093, 7, 300000, 1], [data.length]]) {
      // A cut list repeats until the input is used up.
      const repeated = Array.from({ length: Math.ceil(data.length / cuts.reduce((a, b) => a + b, 0)) + 1 }, () => cuts).flat();
      expect((await gzipInPieces(implementation, data, repeated)).equals(expected)).toBe(true);
    }
    expect((await gzipInPieces(implementation, Buffer.alloc(0), [])).equals(gzipDeterministic(Buffer.alloc(0)))).toBe(true);
  });

  it('writes a layer from files on disk with the digest and diff_id of the in-memory build', async () => {
    const big = sample(3, 2 * 1024 * 1024 + 5);
    await writeFile(join(dir, 'big'), big);
    await writeFile(join(dir, 'empty'), '');
    const memory: LayerEntry[] = [
      { path: 'usr/bin/big', type: 'file', mode: 0o755, content: big, uid: 65532, gid: 65532 },
      { path: 'etc/empty', type: 'file', content: Buffer.alloc(0) },
      { path: 'etc/motd', type: 'file', content: Buffer.from('hi\n') },
      { path: 'etc/link', type: 'symlink', linkTarget: 'motd' },
      { path: 'var/lib/app', type: 'directory', mode: 0o700 },
    ];
    const streamed: LayerEntry[] = memory.map((entry) =>
      entry.path === 'usr/bin/big' ? { ...entry, content: undefined } : entry.path === 'etc/empty' ? { ...entry, content: undefined } : entry,
    );
    streamed[0] = { ...streamed[0], source: await statFileSource(join(dir, 'big')) };
    streamed[1] = { ...streamed[1], source: await statFileSource(join(dir, 'empty')) };
    for (const includeParents of [true, false]) {
      const expected = await buildLayer(memory, { mtime: 1700000000, includeParents });
      const layout = join(dir, `layout-${includeParents}`);
      const writer = new OciLayoutWriter(layout);
      await writer.init();
      const written = await writeLayer(streamed, { mtime: 1700000000, includeParents }, writer);
      expect(written.descriptor).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: expected.digest, size: expected.blob.length });
      expect(written.diffId).toBe(expected.diffId);
      expect((await readFile(blobPath(layout, expected.digest))).equals(expected.blob)).toBe(true);
      // Only the blob: no temporary file is left next to it.
      expect(await readdir(join(layout, 'blobs', 'sha256'))).toEqual([expected.digest.slice(7)]);
    }
  });

  it('writes a layer past 64 MiB (gzip in blocks, block inputs reused) with the in-memory build digests', async () => {
    const path = join(dir, 'data');
    const data = Buffer.concat([sample(11, 8 * 1024 * 1024), Buffer.alloc(57 * 1024 * 1024, 7), sample(12, 3 * 1024 * 1024 + 9)]);
    await writeFile(path, data);
    const expected = await buildLayer([{ path: 'data', type: 'file', content: data }], { mtime: 0, includeParents: true });
    const layout = join(dir, 'layout');
    const writer = new OciLayoutWriter(layout);
    await writer.init();
    const written = await writeLayer([{ path: 'data', type: 'file', source: await statFileSource(path) }], { mtime: 0, includeParents: true }, writer);
    expect(written.diffId).toBe(expected.diffId);
    expect(written.descriptor.digest).toBe(expected.digest);
  });

  it('refuses a file that changed after it was listed, and stores nothing', async () => {
    const path = join(dir, 'app');
    await writeFile(path, sample(1, 100000));
    const source = await statFileSource(path);
    await appendFile(path, 'more');
    const layout = join(dir, 'layout');
    const writer = new OciLayoutWriter(layout);
    await writer.init();
    const attempt = writeLayer([{ path: 'app', type: 'file', source }], { mtime: 0, includeParents: true }, writer);
    await expect(attempt).rejects.toThrow(FileChangedError);
    await expect(attempt).rejects.toThrow(`${path} changed while it was being written into the layer (size 100000 bytes when listed, 100004 now)`);
    expect(await readdir(join(layout, 'blobs', 'sha256'))).toEqual([]);
  });

  it('refuses a file rewritten with the same size while it streams', async () => {
    const path = join(dir, 'app');
    const size = 16 * 1024 * 1024;
    await writeFile(path, Buffer.alloc(size, 1));
    const source = await statFileSource(path);
    const layout = join(dir, 'layout');
    const writer = new OciLayoutWriter(layout);
    await writer.init();
    const attempt = writeLayer([{ path: 'app', type: 'file', source }], { mtime: 0, includeParents: true }, writer);
    // Rewrites the middle of the file while the layer reads it (in place: same inode, same size).
    const { open } = await import('node:fs/promises');
    const handle = await open(path, 'r+');
    await handle.write(Buffer.alloc(4096, 2), 0, 4096, size / 2);
    await handle.close();
    await expect(attempt).rejects.toThrow(/changed while it was being written into the layer \(modified after it was listed\)/);
    expect(await readdir(join(layout, 'blobs', 'sha256'))).toEqual([]);
  });

  it('reads a layer back as a verified stream, failing on a corrupted blob', async () => {
    const layout = join(dir, 'layout');
    const writer = new OciLayoutWriter(layout);
    await writer.init();
    const data = randomBytes(300000);
    const descriptor = await writer.writeBlob(data, 'application/octet-stream');
    const reader = new OciLayoutReader(layout);
    const hash = createHash('sha256');
    for await (const chunk of (await reader.openBlob(descriptor.digest, descriptor.size)).stream) hash.update(chunk as Buffer);
    expect(`sha256:${hash.digest('hex')}`).toBe(descriptor.digest);

    const corrupted = Buffer.from(data);
    corrupted[1000] ^= 1;
    await writeFile(blobPath(layout, descriptor.digest), corrupted);
    const { stream } = await reader.openBlob(descriptor.digest, descriptor.size);
    const drain = async () => {
      for await (const _ of stream) void _;
    };
    await expect(drain()).rejects.toThrow(DigestMismatchError);
    await expect(reader.openBlob(descriptor.digest, descriptor.size + 1)).rejects.toThrow(`has ${descriptor.size} bytes, its descriptor says ${descriptor.size + 1}`);
  });
});
