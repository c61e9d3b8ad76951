import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MultiarchError } from '../errors';

/**
 * An exclusive lock between processes on one machine: a file created with
 * O_EXCL holding the owner's pid. Nx runs a project's arch variants as
 * separate processes side by side; the lock lets one of them fetch what all
 * of them need while the others wait, instead of each fetching it again.
 * A lock whose owner has died (kill -9) is taken over.
 */
export interface LockOptions {
  /** Give up after this long (the fetch under the lock is bounded by it too). */
  timeoutMs: number;
  /** Called once when the lock is busy, to say why the task waits. */
  onWait?: (ownerPid: number) => void;
}

const POLL_MS = 100;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export async function withFileLock<T>(path: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  while (!(await tryAcquire(path))) {
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // An empty file is a lock being written this instant; only a named, dead owner is stale.
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new MultiarchError(
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for the lock ${path} (held by pid ${owner || 'unknown'}).`,
        'Another build is fetching the same dependencies; wait for it, or remove the file if no such process runs.',
      );
    }
    if (!told && options.onWait && owner > 0) options.onWait(owner);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
