import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestHex } from './digest';
import { writeLayer, type LayerEntry, type LayerOptions } from './layer';
import { LayerCache, writeLayerCached } from './layer-cache';
import { blobPath, OciLayoutWriter } from './layout';

/**
 * The layer cache gives the very blob a compression gives, takes it only
 * when it hashes right, and stays within its size.
 */
describe('layer cache', () => {
  let root: string;
  let layouts = 0;
  const options: LayerOptions = { mtime: 1700000000, includeParents: true };
  // Random bytes do not compress: the blob is a little over the content's size.
  const binary = (bytes: number): LayerEntry[] => [{ path: 'usr/bin/app', type: 'file', mode: 0o755, content: randomBytes(bytes) }];
  const layout = async () => {
    const writer = new OciLayoutWriter(join(root, `layout-${(layouts += 1)}`));
    await writer.init();
    return writer;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-layer-cache-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('compresses a layer once: the second build of the same files reuses the blob, byte for byte what writeLayer writes', async () => {
    const entries = [...binary(200_000), { path: 'etc/motd', type: 'file' as const, content: Buffer.from('hi\n') }];
    const cache = new LayerCache(join(root, 'cache'));
    const plain = await layout();
    const expected = await writeLayer(entries, options, plain);

    const first = await layout();
    const miss = await writeLayerCached(entries, options, first, cache);
    const second = await layout();
    const hit = await writeLayerCached(entries, options, second, cache);

    expect(miss.reused).toBe(false);
    expect(hit.reused).toBe(true);
    for (const written of [miss, hit]) {
      expect(written.descriptor).toEqual(expected.descriptor);
      expect(written.diffId).toBe(expected.diffId);
      expect(await readFile(blobPath(second.dir, written.descriptor.digest))).toEqual(await readFile(blobPath(plain.dir, expected.descriptor.digest)));
    }
    // Other files, another layer: compressed.
    expect((await writeLayerCached(binary(1000), options, await layout(), cache)).reused).toBe(false);
  });

  it('a cached blob that no longer hashes to its digest is not used: the layer is compressed again, and the next build reuses the new copy', async () => {
    const entries = binary(50_000);
    const cache = new LayerCache(join(root, 'cache'));
    const first = await writeLayerCached(entries, options, await layout(), cache);
    const cached = blobPath(cache.dir, first.descriptor.digest);
    const bytes = await readFile(cached);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(cached, bytes);

    const target = await layout();
    const again = await writeLayerCached(entries, options, target, cache);

    expect(again.reused).toBe(false);
    expect(again.descriptor).toEqual(first.descriptor);
    expect(await readdir(join(target.dir, 'blobs', 'sha256'))).toEqual([digestHex(first.descriptor.digest)]);
    expect((await writeLayerCached(entries, options, await layout(), cache)).reused).toBe(true);
  });

  it('keeps the most recently used layers within its size, and a record whose blob went is compressed again', async () => {
    const layers = [binary(100_000), binary(100_000), binary(100_000)];
    // Room for two of the three blobs.
    const cache = new LayerCache(join(root, 'cache'), 250_000);
    const written = [];
    for (const [i, entries] of layers.entries()) {
      written.push(await writeLayerCached(entries, options, await layout(), cache));
      // Distinct last-use times, oldest first, whatever the file system's time resolution.
      const then = new Date(Date.now() - (10 - i) * 60_000);
      await utimes(join(cache.dir, 'gzip', digestHex(written[i].diffId)), then, then);
    }
    await cache.evict();

    expect(await cache.lookup(written[0].diffId)).toBeUndefined();
    expect(await cache.lookup(written[1].diffId)).toBeDefined();
    expect(await cache.lookup(written[2].diffId)).toBeDefined();
    expect((await readdir(join(cache.dir, 'blobs', 'sha256'))).sort()).toEqual([written[1], written[2]].map((w) => digestHex(w.descriptor.digest)).sort());
    // The lookups above were uses: make the second layer the least recently used again, so the
    // first layer's return evicts it (two lookups in one millisecond would leave it to the names).
    await utimes(join(cache.dir, 'gzip', digestHex(written[1].diffId)), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await utimes(join(cache.dir, 'gzip', digestHex(written[2].diffId)), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect((await writeLayerCached(layers[0], options, await layout(), cache)).reused).toBe(false);
    expect(await cache.lookup(written[1].diffId)).toBeUndefined();

    await rm(blobPath(cache.dir, written[2].descriptor.digest));
    const rebuilt = await writeLayerCached(layers[2], options, await layout(), cache);
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.descriptor).toEqual(written[2].descriptor);
  });

  it('a record cut short is not trusted, and what killed stores left goes once an hour old', async () => {
    const entries = binary(20_000);
    const cache = new LayerCache(join(root, 'cache'));
    const first = await writeLayerCached(entries, options, await layout(), cache);
    await writeFile(join(cache.dir, 'gzip', digestHex(first.diffId)), '{"digest":"sha256:');
    expect(await cache.lookup(first.diffId)).toBeUndefined();
    expect((await writeLayerCached(entries, options, await layout(), cache)).reused).toBe(false);
    expect((await writeLayerCached(entries, options, await layout(), cache)).reused).toBe(true);

    const blobs = join(cache.dir, 'blobs', 'sha256');
    const hourAgo = new Date(Date.now() - 61 * 60_000);
    for (const name of ['a'.repeat(64), 'b'.repeat(64)]) await writeFile(join(blobs, name), 'a blob whose record was never written');
    await writeFile(join(cache.dir, 'gzip', `${'c'.repeat(64)}.tmp-0a1b2c3d4e5f`), '{');
    await utimes(join(blobs, 'a'.repeat(64)), hourAgo, hourAgo);
    await utimes(join(cache.dir, 'gzip', `${'c'.repeat(64)}.tmp-0a1b2c3d4e5f`), hourAgo, hourAgo);
    await cache.evict();

    expect((await readdir(blobs)).sort()).toEqual(['b'.repeat(64), digestHex(first.descriptor.digest)].sort());
    expect(await readdir(join(cache.dir, 'gzip'))).toEqual([digestHex(first.diffId)]);
  });

  it('without a cache folder every layer is compressed', async () => {
    const entries = binary(10_000);
    expect((await writeLayerCached(entries, options, await layout(), undefined)).reused).toBe(false);
    expect((await writeLayerCached(entries, options, await layout(), undefined)).reused).toBe(false);
  });
});
