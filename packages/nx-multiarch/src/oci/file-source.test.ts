import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { headOf, HEAD_BYTES, writeFileSource } from './file-source';

/**
 * writeFileSource is how extracted files (ADD's archives, tar -x, a
 * package install) reach the disk: the file and its head as written, no
 * partial file after a failed stream, and never a file it did not write.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxm-file-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileSource', () => {
  it('writes the stream and lists the file with its first bytes', async () => {
    const bytes = Buffer.alloc(3 * HEAD_BYTES, 7);
    bytes.write('\x7fELF', 0, 'latin1');
    const { source, head } = await writeFileSource(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), join(dir, 'out'));
    expect(source.size).toBe(bytes.length);
    expect(await readFile(source.path)).toEqual(bytes);
    expect(head).toEqual(bytes.subarray(0, HEAD_BYTES));
    expect(await headOf({ source })).toEqual(head);
  });

  it('removes the partial file when the stream fails', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024, 1);
        throw new Error('archive broke off');
      })(),
    );
    await expect(writeFileSource(failing, join(dir, 'partial'))).rejects.toThrow('archive broke off');
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves a file that was already there alone', async () => {
    await writeFile(join(dir, 'taken'), 'kept');
    await expect(writeFileSource(Readable.from([Buffer.from('new')]), join(dir, 'taken'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, 'taken'), 'utf8')).toBe('kept');
  });
});

describe('headOf', () => {
  it('gives the first bytes of a file held in memory', async () => {
    const content = Buffer.alloc(HEAD_BYTES + 10, 3);
    expect(await headOf({ content })).toEqual(content.subarray(0, HEAD_BYTES));
    expect(await headOf({})).toEqual(Buffer.alloc(0));
  });
});
