import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { readDeb } from './deb-file';

/**
 * readDeb against .debs that the real dpkg-deb builds: the control and the
 * maintainer script read as text, the data files streamed to the extract
 * folder (on disk, not in memory), hard links and symlinks kept, and a
 * truncated package refused with dpkg-deb's own words.
 */

const CONTROL = 'Package: nxm-demo\nVersion: 1.0-1\nArchitecture: arm64\nMaintainer: nx-multiarch tests <tests@example.invalid>\nDescription: streaming test package\n';
const POSTINST = '#!/bin/sh\nset -e\nldconfig\n';
/** Bigger than every buffer on the way (tar-stream's, dpkg-deb's pipe), so a file really streams in pieces. */
const DATA_BYTES = 24 * 1024 * 1024;

let dir: string;
let deb: string;
let data: Buffer;

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxm-deb-file-'));
  const root = join(dir, 'pkg');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr/lib/demo'), { recursive: true });
  await writeFile(join(root, 'DEBIAN/control'), CONTROL);
  await writeFile(join(root, 'DEBIAN/postinst'), POSTINST);
  await chmod(join(root, 'DEBIAN/postinst'), 0o755);
  // Bytes that differ along the file, so a piece written twice or out of order changes the hash.
  data = Buffer.alloc(DATA_BYTES);
  for (let i = 0; i < DATA_BYTES; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(join(root, 'usr/lib/demo/data.bin'), data);
  await link(join(root, 'usr/lib/demo/data.bin'), join(root, 'usr/lib/demo/data-again.bin'));
  await symlink('data.bin', join(root, 'usr/lib/demo/current'));
  deb = join(dir, 'nxm-demo.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], { stdio: 'ignore' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readDeb', () => {
  let extractDir: string;
  beforeEach(async () => {
    extractDir = await mkdtemp(join(dir, 'extract-'));
  });

  it('reads the control and postinst, and streams the data files to the extract folder', async () => {
    const contents = await readDeb(deb, extractDir);
    expect(contents.control).toBe(CONTROL.replace(/\n+$/, ''));
    expect(contents.postinst).toBe(POSTINST);
    expect(contents.preinst).toBeUndefined();

    const byPath = new Map(contents.files.map((f) => [f.path, f]));
    // The two names of one file: dpkg-deb's tar stores the first it meets as the file, the other as a hard link to it.
    const names = ['usr/lib/demo/data.bin', 'usr/lib/demo/data-again.bin'];
    const file = names.map((n) => byPath.get(n)).find((f) => f?.type === 'file');
    const other = names.find((n) => n !== file?.path) as string;
    expect(file?.content).toBeUndefined();
    expect(file?.source?.path.startsWith(extractDir)).toBe(true);
    expect(file?.source?.size).toBe(DATA_BYTES);
    expect(sha256(await readFile(file?.source?.path as string))).toBe(sha256(data));
    expect(byPath.get(other)).toMatchObject({ type: 'hardlink', linkTarget: file?.path });
    expect(byPath.get('usr/lib/demo/current')).toMatchObject({ type: 'symlink', linkTarget: 'data.bin' });
    expect(byPath.get('usr/lib/demo')?.type).toBe('directory');
  });

  it('gives each package its own folder under the extract folder', async () => {
    const first = await readDeb(deb, extractDir);
    const second = await readDeb(deb, extractDir);
    const sourceOf = (deb: typeof first) => deb.files.find((f) => f.type === 'file' && f.path.endsWith('.bin'))?.source?.path as string;
    expect(sourceOf(first)).not.toBe(sourceOf(second));
    expect((await stat(sourceOf(first))).size).toBe(DATA_BYTES);
    expect((await stat(sourceOf(second))).size).toBe(DATA_BYTES);
  });

  it("refuses a truncated package with dpkg-deb's message and the fix", async () => {
    const broken = join(dir, 'broken.deb');
    await writeFile(broken, await readFile(deb));
    await truncate(broken, (await stat(deb)).size - 4096);
    const error = await readDeb(broken, extractDir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toMatch(/^dpkg-deb --fsys-tarfile .*broken\.deb failed: .+/);
    expect((error as MultiarchError).hint).toBe('Delete the cached .deb named above; the next build downloads it again.');
  });

  it('names a file that is not a package', async () => {
    const notDeb = join(dir, 'not-a.deb');
    await writeFile(notDeb, 'just text\n');
    await expect(readDeb(notDeb, extractDir)).rejects.toThrow(/^dpkg-deb --ctrl-tarfile .*not-a\.deb failed: .+/);
  });
});
