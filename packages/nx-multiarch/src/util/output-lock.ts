import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MultiarchError } from '../errors';
import { ownerVerdict, ownerTag } from './stale-temp';

/**
 * A readers-writer lock on one output folder (dist/<kind>/<project>/<arch>),
 * between processes, made of files in `.<arch>.lock/` beside it: a push that
 * reads an image holds a read lock for the whole push, and a task that swaps
 * or removes the folder holds the write lock meanwhile, so a reader never
 * sees a folder half replaced. Writers go first: a reader that finds a writer
 * (waiting or working) steps back. Each file names its owner (host and pid),
 * so the lock of a killed process is dropped, not waited on forever.
 *
 * This orders our own tasks only: Nx restoring an output from its cache does
 * not take the lock (see the README on running commands side by side).
 */
export interface OutputLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Told once when the lock is busy, so a waiting task says why it waits. */
  onWait?: (holders: string[]) => void;
}

const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

function lockDir(output: string): string {
  return join(dirname(output), `.${basename(output)}.lock`);
}

/** `<kind>-<owner>-<rand>`: the owner (host and pid) in the form stale-temp reads. */
function entryName(kind: 'r' | 'w'): string {
  return `${kind}-${ownerTag()}-${randomBytes(3).toString('hex')}`;
}

const WRITER = 'writer';

function isStale(entry: string): boolean {
  // A lock entry's age says nothing (a push may run for an hour), so an entry without an owner is never stale.
  return ownerVerdict(entry.slice(1), Date.now(), Date.now()) === 'stale';
}

/** Live readers of the lock; entries of dead owners on this host are removed on the way. */
async function liveReaders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names.filter((n) => n.startsWith('r-'))) {
    if (isStale(name)) await unlink(join(dir, name)).catch(() => undefined);
    else live.push(name);
  }
  return live.sort();
}

/** The writer holding the lock, if a live one does; a dead writer's file is removed. */
async function liveWriter(dir: string): Promise<string | undefined> {
  const owner = await readFile(join(dir, WRITER), 'utf8').catch(() => undefined);
  if (owner === undefined) return undefined;
  if (owner === '') return 'w-?'; // being written this instant: treat as held
  if (!isStale(owner)) return owner;
  // Only the dead owner's file goes: a new writer may have replaced it since the read.
  if ((await readFile(join(dir, WRITER), 'utf8').catch(() => undefined)) === owner) await unlink(join(dir, WRITER)).catch(() => undefined);
  return undefined;
}

/** Creates `name` in the lock folder with `content`, exclusively; false when it exists. */
async function createExclusive(dir: string, name: string, content: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(join(dir, name), content, { flag: 'wx' });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Another process removed the empty lock folder between our mkdir and the write: again.
      if (code !== 'ENOENT' || attempt > 20) throw error;
    }
  }
}

async function removeEntry(dir: string, name: string): Promise<void> {
  await unlink(join(dir, name)).catch(() => undefined);
  // The last one out removes the folder (fails harmlessly while others hold entries).
  await rmdir(dir).catch(() => undefined);
}

function describe(entries: string[]): string[] {
  return entries.map((name) => `${name.startsWith('w-') ? 'writer' : 'reader'} pid ${/-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1] ?? '?'}`);
}

async function waitFor(output: string, what: 'read' | 'write', ready: () => Promise<string[] | undefined>, options: LockOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let told = false;
  for (;;) {
    const blockers = await ready();
    if (blockers === undefined) return;
    if (!told) {
      options.onWait?.(describe(blockers));
      told = true;
    }
    if (Date.now() > deadline) {
      throw new MultiarchError(
        `Timed out waiting to ${what} ${output}: held by ${describe(blockers).join(', ')}.`,
        `Another nx-multiarch task in this workspace is using it; wait for it to finish. If no such process runs, remove ${lockDir(output)}.`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Shared: many readers at once, none while a writer holds the lock. */
export async function lockForRead(output: string, options: LockOptions = {}): Promise<OutputLock> {
  const dir = lockDir(output);
  // No project folder: no writer is at work (a writer builds inside it), and nothing is left behind for a lock.
  if (!(await stat(dirname(output)).then(() => true, () => false))) return { release: async () => undefined };
  const name = entryName('r');
  await waitFor(output, 'read', async () => {
    const writer = await liveWriter(dir);
    if (writer !== undefined) return [writer];
    await createExclusive(dir, name, '');
    // A writer that came between the look and our entry goes first: step back.
    const late = await liveWriter(dir);
    if (late === undefined) return undefined;
    await removeEntry(dir, name);
    return [late];
  }, options);
  return { release: () => removeEntry(dir, name) };
}

/** Exclusive: takes the writer's place (one at a time), then waits for every reader to finish. */
export async function lockForWrite(output: string, options: LockOptions = {}): Promise<OutputLock> {
  const dir = lockDir(output);
  const name = entryName('w');
  let held = false;
  try {
    await waitFor(output, 'write', async () => {
      if (!held) {
        held = await createExclusive(dir, WRITER, name);
        if (!held) return [(await liveWriter(dir)) ?? 'w-?'];
      }
      // Readers that came first finish; new ones step back while the writer file is there.
      const readers = await liveReaders(dir);
      return readers.length > 0 ? readers : undefined;
    }, options);
  } catch (error) {
    if (held) await removeEntry(dir, WRITER);
    throw error;
  }
  return { release: () => removeEntry(dir, WRITER) };
}

/** Runs `body` holding the lock; released however it ends. */
export async function withOutputLock<T>(output: string, mode: 'read' | 'write', body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = mode === 'read' ? await lockForRead(output, options) : await lockForWrite(output, options);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}
