import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OciLayoutWriter } from './layout';
import { MediaTypes } from './types';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxm-layout-early-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A layer whose first file changed since it was listed fails at its first read, which can come
// while the writer is still making its folder: the write must reject with that error, not leave
// it as an 'error' event nobody hears (which ends the process).
it('rejects with the error of a source that fails before the write has begun, and stores nothing', async () => {
  const writer = new OciLayoutWriter(join(dir, 'layout'));
  await writer.init();
  const source = new Readable({ read: () => undefined });
  process.nextTick(() => source.destroy(new Error('the source failed at once')));
  await expect(writer.writeBlobStream(source, MediaTypes.ociLayerGzip)).rejects.toThrow('the source failed at once');
  expect(await readdir(join(dir, 'layout', 'blobs', 'sha256'))).toEqual([]);
});
