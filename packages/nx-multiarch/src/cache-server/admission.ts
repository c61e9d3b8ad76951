/**
 * How many requests the cache server works on at once, and how many wait.
 * A request beyond both, or any new request while the process's memory is
 * over its cap, is refused with 503 and Retry-After instead of slowing every
 * other client down (or the server falling over) when a whole CI fleet
 * starts at once. Entries are streamed, never held whole, so memory grows
 * with the number of requests in flight; the queue bounds that number.
 */
export interface AdmissionLimits {
  /** Requests served at once. */
  maxActive: number;
  /** Requests waiting for a slot; beyond this, 503. */
  maxQueued: number;
  /** Resident memory (bytes) above which new requests get 503; undefined: no cap. */
  maxMemoryBytes?: number;
  /** Seconds the 503 tells the client to wait. */
  retryAfterSeconds: number;
}

export const DEFAULT_LIMITS: AdmissionLimits = { maxActive: 64, maxQueued: 1024, retryAfterSeconds: 1 };

export type Refusal = { reason: 'busy' | 'memory'; detail: string };

export class Admission {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Most requests in flight (served plus waiting) seen so far, for the log and tests. */
  peak = 0;
  refused = 0;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly memory: () => number = () => process.memoryUsage.rss(),
  ) {}

  /** A release function once the request may run, or why it may not. */
  async enter(): Promise<(() => void) | Refusal> {
    if (this.limits.maxMemoryBytes !== undefined) {
      const rss = this.memory();
      if (rss > this.limits.maxMemoryBytes) {
        this.refused += 1;
        return { reason: 'memory', detail: `memory ${rss} bytes over the cap of ${this.limits.maxMemoryBytes}` };
      }
    }
    if (this.active >= this.limits.maxActive) {
      if (this.waiting.length >= this.limits.maxQueued) {
        this.refused += 1;
        return { reason: 'busy', detail: `${this.active} requests running and ${this.waiting.length} waiting` };
      }
      this.peak = Math.max(this.peak, this.active + this.waiting.length + 1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      // The slot was handed over by the request that finished: `active` already counts this one.
    } else {
      this.active += 1;
      this.peak = Math.max(this.peak, this.active + this.waiting.length);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }

  get inFlight(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
