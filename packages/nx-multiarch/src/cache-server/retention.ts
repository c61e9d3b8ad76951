import type { PruneResult, RetentionPolicy, VerifiedEntry } from './storage';

/** What retention needs to know of one entry, whatever the backend. */
export interface RetentionCandidate {
  key: string;
  /** Epoch ms of the entry's last use (or its creation, when no use is known). */
  lastUsed: number;
  /** Bytes the entry takes in the store. */
  size: number;
}

/**
 * Which entries a policy removes — the one rule every backend applies:
 * entries unused for longer than maxAgeMs, then the least recently used
 * until the rest fit in maxTotalBytes. An entry in `inUse` is never chosen
 * (it is reported as skipped; its bytes still count as kept). Pure: the
 * caller lists the entries and deletes what comes back.
 */
export function selectForRemoval(
  entries: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: number,
  inUse: (key: string) => boolean,
): PruneResult {
  // Least recently used first; the key breaks ties so the choice is stable.
  const ordered = [...entries].sort((a, b) => a.lastUsed - b.lastUsed || a.key.localeCompare(b.key));
  let total = ordered.reduce((sum, e) => sum + e.size, 0);
  const result: PruneResult = { examined: ordered.length, removed: [], freedBytes: 0, keptBytes: total, skippedInUse: [] };
  for (const entry of ordered) {
    const tooOld = policy.maxAgeMs !== undefined && now - entry.lastUsed > policy.maxAgeMs;
    const tooBig = policy.maxTotalBytes !== undefined && total > policy.maxTotalBytes;
    if (!tooOld && !tooBig) continue;
    if (inUse(entry.key)) {
      result.skippedInUse.push(entry.key);
      continue;
    }
    total -= entry.size;
    result.removed.push(entry.key);
    result.freedBytes += entry.size;
  }
  result.keptBytes = total;
  return result;
}

/** Takes a key the caller found in use at the last moment out of `removed`, into `skippedInUse`. */
export function keepInUse(result: PruneResult, key: string, size: number): void {
  const at = result.removed.indexOf(key);
  if (at < 0) return;
  result.removed.splice(at, 1);
  result.skippedInUse.push(key);
  result.freedBytes -= size;
  result.keptBytes += size;
}

/**
 * The entries this server is reading right now, counted from opening an
 * entry to its stream's close (or its discard): retention leaves them alone.
 * One count per key, as several clients may read one entry at once.
 */
export class ReadsInProgress {
  private readonly counts = new Map<string, number>();

  has(key: string): boolean {
    return this.counts.has(key);
  }

  /** Opens an entry with `open`, counted as a read until the entry's stream closes or it is discarded. */
  async track(key: string, open: () => Promise<VerifiedEntry | undefined>): Promise<VerifiedEntry | undefined> {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    };
    try {
      const entry = await open();
      if (!entry) {
        finished();
        return undefined;
      }
      return {
        ...entry,
        stream: () => entry.stream().once('close', finished),
        discard: () => entry.discard().finally(finished),
      };
    } catch (error) {
      finished();
      throw error;
    }
  }
}
