import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeLayer } from './layer';
import { OciLayoutWriter } from './layout';
import { statFileSource, writeFileSource } from './file-source';

/**
 * A disk that fills while a layer is written: a real full file system (a
 * 256 KiB tmpfs this test mounts and unmounts), not a simulated error. Needs
 * root to mount, as CI and tools/setup.sh run; elsewhere it says so and skips.
 */
const canMount = process.getuid?.() === 0;
const describeMounted = canMount ? describe : describe.skip;
if (!canMount) console.warn('layout-disk-full.test.ts skipped: mounting a small tmpfs needs root');

describeMounted('a layout on a disk that fills', () => {
  let dir: string;
  let mount: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-disk-full-'));
    mount = join(dir, 'small');
    await mkdir(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mount]);
  });
  afterAll(async () => {
    if (mount) execFileSync('umount', [mount]);
    await rm(dir, { recursive: true, force: true });
  });

  it('fails naming the folder that filled, with no blob under its final name and no temporary file left', async () => {
    const input = join(dir, 'data.bin');
    // Random bytes do not compress: the gzip layer is about 1 MiB, four times what the disk holds.
    await writeFile(input, randomBytes(1024 * 1024));
    const layout = join(mount, 'layout');
    const writer = new OciLayoutWriter(layout);
    await writer.init();
    const blobs = join(layout, 'blobs', 'sha256');
    const attempt = writeLayer([{ path: 'data.bin', type: 'file', source: await statFileSource(input) }], { mtime: 0, includeParents: true }, writer);
    await expect(attempt).rejects.toThrow(`No space left in ${blobs} while writing a blob (ENOSPC); nothing was stored under a blob name.`);
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/Free space on the disk that holds this folder/) });
    expect(await readdir(blobs)).toEqual([]);
    // The space is given back: a small blob fits again.
    await expect(writer.writeBlob(Buffer.from('{}'), 'application/json')).resolves.toMatchObject({ size: 2 });
  });

  it('an extract folder (ADD, tar -x, a package install) that fills names the folder and keeps no partial file', async () => {
    const extractDir = join(mount, 'extract');
    await mkdir(extractDir);
    const attempt = writeFileSource(Readable.from([randomBytes(1024 * 1024)]), join(extractDir, '0'));
    await expect(attempt).rejects.toThrow(`No space left in ${extractDir} while extracting a file there (ENOSPC).`);
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/TMPDIR/) });
    expect(await readdir(extractDir)).toEqual([]);
  });
});
