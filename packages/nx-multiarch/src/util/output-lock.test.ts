import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirAtomically } from './atomic';
import { lockForRead, lockForWrite } from './output-lock';
import { ownerTag } from './stale-temp';

/** The per-output lock: a reader waits for a writer, a writer for readers, and a dead owner holds nothing. */
describe('output lock', () => {
  let root: string;
  let out: string;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-lock-'));
    out = join(root, 'dist', 'images', 'web', 'arm64');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'index.json'), 'old');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('a swap waits until a reader is done; the reader sees the old output whole meanwhile', async () => {
    const reader = await lockForRead(out);
    let swapped = false;
    const write = writeDirAtomically(out, async (tmp) => writeFile(join(tmp, 'index.json'), 'new')).then(() => (swapped = true));
    await sleep(400);
    expect(swapped).toBe(false);
    expect(await readFile(join(out, 'index.json'), 'utf8')).toBe('old');
    await reader.release();
    await write;
    expect(await readFile(join(out, 'index.json'), 'utf8')).toBe('new');
    // Nothing of the lock or the write is left beside the output.
    expect(await readdir(join(root, 'dist', 'images', 'web'))).toEqual(['arm64']);
  });

  it('a reader waits for a writer, and says so once', async () => {
    const writer = await lockForWrite(out);
    const waits: string[][] = [];
    let got = false;
    const read = lockForRead(out, { onWait: (holders) => waits.push(holders) }).then((lock) => {
      got = true;
      return lock;
    });
    await sleep(300);
    expect(got).toBe(false);
    expect(waits).toEqual([[`writer pid ${process.pid}`]]);
    await writer.release();
    await (await read).release();
    expect(got).toBe(true);
  });

  it('many readers share; a second writer waits for the first', async () => {
    const a = await lockForRead(out);
    const b = await lockForRead(out, { timeoutMs: 1000 });
    await Promise.all([a.release(), b.release()]);
    const first = await lockForWrite(out);
    let second = false;
    const next = lockForWrite(out).then((lock) => {
      second = true;
      return lock;
    });
    await sleep(300);
    expect(second).toBe(false);
    await first.release();
    await (await next).release();
  });

  it('gives up after its timeout naming the holder and how to clear it', async () => {
    const writer = await lockForWrite(out);
    await expect(lockForRead(out, { timeoutMs: 200 })).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`^Timed out waiting to read .*arm64: held by writer pid ${process.pid}\\.$`)),
      hint: expect.stringContaining('.arm64.lock'),
    });
    await writer.release();
  });

  it('the lock of a killed process holds nothing', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const dir = join(root, 'dist', 'images', 'web', '.arm64.lock');
    await mkdir(dir, { recursive: true });
    // A writer and a reader, both killed while they held the lock.
    await writeFile(join(dir, 'writer'), `w-${ownerTag(child.pid!)}-abc123`);
    await writeFile(join(dir, `r-${ownerTag(child.pid!)}-def456`), '');
    const read = await lockForRead(out, { timeoutMs: 1000 });
    await read.release();
    await writeFile(join(dir, `r-${ownerTag(child.pid!)}-def456`), '');
    const write = await lockForWrite(out, { timeoutMs: 1000 });
    await write.release();
    expect(await readdir(join(root, 'dist', 'images', 'web'))).toEqual(['arm64']);
  });
});
