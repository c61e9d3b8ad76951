/**
 * When and how long to wait before trying a registry request again. Pure
 * functions (the clock and the dice are passed in) so the policy is unit-tested.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; doubled after each failure. */
  baseDelayMs: number;
  /** No single wait is longer than this (a longer Retry-After gives up instead). */
  maxDelayMs: number;
  /** No retry starts later than this after the first attempt. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
  maxTotalMs: 90_000,
};

/** 408 timeout, 429 too many requests, and every 5xx are worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Reset or dropped connections (a proxy restart, a load balancer cutting idle sockets). */
export function isRetryableError(error: unknown): boolean {
  // Duck-typed, not instanceof Error: errors from Node's own modules come from
  // another realm under test runners that sandbox globals (Jest).
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  return typeof message === 'string' && /socket hang up|other side closed/i.test(message);
}

/**
 * Seconds or an HTTP date, as RFC 9110 allows, to milliseconds from `now`.
 * Unparseable values count as absent.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1), or undefined
 * when the policy says stop. Exponential backoff with jitter (a random wait
 * between half and all of the step), so clients hitting the same overloaded
 * registry spread out; a Retry-After from the server is a floor.
 */
export function nextDelay(
  policy: RetryPolicy,
  attempt: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  let delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxDelayMs) return undefined;
    delay = Math.max(delay, retryAfterMs);
  }
  if (elapsedMs + delay > policy.maxTotalMs) return undefined;
  return delay;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
