import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Temporary folders (an output being written beside its final place, a
 * scratch build context) carry their owner in their name: a short hash of
 * the host and the pid of the process that made them. A process killed with
 * -9 cannot clean up after itself, so the next run sweeps every temporary
 * folder whose owner is on this host and no longer alive. Folders of other
 * hosts (a workspace shared over the network) are left alone: their pids
 * mean nothing here.
 */

/** `<host hash>-<pid>`: what goes into a temporary folder's name. */
export function ownerTag(pid: number = process.pid): string {
  return `${hostTag()}-${pid}`;
}

/** A label made safe for a temporary folder's name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function safeNamePart(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]/g, '_');
}

function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** The owner a name carries: `…-<host hash>-<pid>-<6 random chars>[.old]`. */
const OWNED = /-([0-9a-f]{8})-(\d+)-[A-Za-z0-9]{6}(?:\.old)?$/;

/** Folders made before names carried an owner are swept once this old (no run lasts so long between writes). */
export const UNOWNED_MAX_AGE_MS = 6 * 60 * 60 * 1000;

export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user; it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type TempVerdict = 'live' | 'stale' | 'foreign';

/** Whether a temporary folder of this name is still owned by a live process here. */
export function ownerVerdict(name: string, modifiedMs: number, now: number = Date.now()): TempVerdict {
  const owned = OWNED.exec(name);
  if (!owned) return now - modifiedMs > UNOWNED_MAX_AGE_MS ? 'stale' : 'live';
  if (owned[1] !== hostTag()) return 'foreign';
  return isAlive(Number(owned[2])) ? 'live' : 'stale';
}

/**
 * Removes the stale temporary folders in `dir` that `isTemp` recognizes by
 * name; returns the names removed. A missing `dir` has none. Never throws for
 * a folder that another sweeper removed first or that cannot be removed.
 */
export async function sweepStaleTemps(dir: string, isTemp: (name: string) => boolean, now: number = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter(isTemp)) {
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (!info || ownerVerdict(name, info.mtimeMs, now) !== 'stale') continue;
    try {
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Not ours to remove after all (another user's, in a shared temporary directory): the others still go.
    }
  }
  return removed;
}

/** `.<name>.tmp-…`: the folders writeDirAtomically builds beside an output (and its `.old` aside). */
export function isAtomicTemp(name: string): boolean {
  return /^\..+\.tmp-/.test(name);
}

/** `context-…`: scratch build contexts under .nx-multiarch/tmp. */
export function isScratchContext(name: string): boolean {
  return name.startsWith('context-');
}
