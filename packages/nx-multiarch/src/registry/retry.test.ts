import { isRetryableError, isRetryableStatus, nextDelay, parseRetryAfter, RetryPolicy } from './retry';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxTotalMs: 3000 };

describe('retry policy', () => {
  it('retries 408, 429 and 5xx, nothing else', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 201, 202, 400, 401, 403, 404, 409, 413].some(isRetryableStatus)).toBe(false);
  });

  it('retries reset connections but not refused ones or programming errors', () => {
    const withCode = (code: string) => Object.assign(new Error('x'), { code });
    expect(isRetryableError(withCode('ECONNRESET'))).toBe(true);
    expect(isRetryableError(withCode('UND_ERR_SOCKET'))).toBe(true);
    expect(isRetryableError(withCode('EPIPE'))).toBe(true);
    expect(isRetryableError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableError(withCode('ECONNREFUSED'))).toBe(false);
    expect(isRetryableError(new TypeError('undefined is not a function'))).toBe(false);
  });

  it('backs off exponentially between half and all of each step', () => {
    expect(nextDelay(policy, 1, 0, undefined, () => 0)).toBe(50);
    expect(nextDelay(policy, 1, 0, undefined, () => 1)).toBe(100);
    expect(nextDelay(policy, 3, 0, undefined, () => 1)).toBe(400);
    // Capped per wait.
    expect(nextDelay(policy, 4, 0, undefined, () => 1)).toBe(800);
    expect(nextDelay({ ...policy, maxAttempts: 10 }, 8, 0, undefined, () => 1)).toBe(1000);
  });

  it('stops at the attempt bound and at the time bound', () => {
    expect(nextDelay(policy, 5, 0, undefined, () => 1)).toBeUndefined();
    expect(nextDelay(policy, 2, 2900, undefined, () => 1)).toBeUndefined();
  });

  it('waits at least as long as Retry-After says, and gives up when that is beyond the bound', () => {
    expect(nextDelay(policy, 1, 0, 700, () => 0)).toBe(700);
    expect(nextDelay(policy, 1, 0, 5000, () => 0)).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
