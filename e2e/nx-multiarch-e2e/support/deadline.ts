/**
 * One time budget shared by several waits, so that a slow step leaves less
 * time to the next instead of every step getting its own full allowance.
 */
export class Deadline {
  private readonly end: number;

  constructor(
    readonly what: string,
    budgetMs: number,
  ) {
    this.end = Date.now() + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.end - Date.now());
  }

  /** The time a step may take: its own limit, or what is left of the budget if that is less. */
  limit(stepMs: number, step: string): number {
    const left = this.remainingMs();
    if (left <= 0) throw new Error(`${this.what}: no time left for ${step}.`);
    return Math.min(stepMs, left);
  }
}
