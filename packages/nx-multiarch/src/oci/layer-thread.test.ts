import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { statFileSource } from './file-source';
import { writeLayer, type LayerEntry } from './layer';
import { LAYER_THREAD_THRESHOLD, layerContentBytes, writeLayerBySize, writeLayerOnThread } from './layer-thread';
import { blobPath, OciLayoutWriter } from './layout';

describe('big layers on their own thread', () => {
  let dir: string;
  let bigFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-layer-thread-'));
    // Past the threshold, so the blocks on worker threads are used too: each MiB 64 KiB of noise, then zeros.
    bigFile = join(dir, 'big.bin');
    const mib = Math.ceil(LAYER_THREAD_THRESHOLD / (1024 * 1024)) + 3;
    await writeFile(bigFile, Buffer.concat(Array.from({ length: mib }, () => Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(960 * 1024)]))));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function entries(): Promise<LayerEntry[]> {
    return [
      { path: 'data/big.bin', type: 'file', source: await statFileSource(bigFile) },
      { path: 'etc/motd', type: 'file', content: Buffer.from('hello\n'), mode: 0o600 },
      { path: 'usr/bin/ping', type: 'file', content: Buffer.from('#!/bin/sh\n'), mode: 0o755, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } },
    ];
  }

  it('writes the very layer the JavaScript thread writes (digest, diff_id, blob), contents and xattrs included', async () => {
    const layer = await entries();
    expect(layerContentBytes(layer)).toBeGreaterThan(LAYER_THREAD_THRESHOLD);
    const here = new OciLayoutWriter(join(dir, 'here'));
    await here.init();
    const there = new OciLayoutWriter(join(dir, 'there'));
    await there.init();
    const options = { mtime: 1700000000, includeParents: true };
    const expected = await writeLayer(layer, options, here);
    const onThread = await writeLayerBySize(layer, options, there);
    expect(onThread).toEqual(expected);
    expect((await stat(blobPath(there.dir, onThread.descriptor.digest))).size).toBe(expected.descriptor.size);
  }, 120_000);

  it('brings the plugin\'s errors back with their message and hint: a file that changed since it was listed', async () => {
    const [big] = await entries();
    const listed = { ...big, source: { ...big.source!, size: big.source!.size + 1 } };
    const layout = new OciLayoutWriter(join(dir, 'changed'));
    await layout.init();
    const failure = await writeLayerOnThread([listed], { mtime: 0, includeParents: true }, layout.dir).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MultiarchError);
    expect((failure as MultiarchError).message).toContain(`${bigFile} changed while it was being written into the layer`);
    expect((failure as MultiarchError).hint).toMatch(/run the build again/);
  }, 120_000);

  it('keeps small layers on the calling thread: the threshold is the leading gzip stream', () => {
    expect(LAYER_THREAD_THRESHOLD).toBe(64 * 1024 * 1024);
    expect(layerContentBytes([{ path: 'a', type: 'file', content: Buffer.alloc(10) }, { path: 'b', type: 'directory' }])).toBe(10);
  });
});
