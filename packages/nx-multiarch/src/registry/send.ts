import { TransientRegistryError } from './errors';
import { DEFAULT_RETRY_POLICY, RetryPolicy, isRetryableError, isRetryableStatus, nextDelay, parseRetryAfter, sleep } from './retry';
import type { HttpRequest, HttpResponse, Transport } from './transport';

/** Called before each wait, so callers can say what is being retried. */
export type RetryListener = (info: { attempt: number; delayMs: number; reason: string; request: HttpRequest }) => void;

/**
 * Sends a request that is safe to repeat, retrying 408/429/5xx answers and
 * reset connections within the policy's bounds. The last retryable answer is
 * returned as is (the caller turns it into an error with context); a
 * connection error that outlives the policy becomes a TransientRegistryError.
 */
export async function sendWithRetry(
  transport: Transport,
  request: HttpRequest,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onRetry?: RetryListener,
): Promise<HttpResponse> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    let response: HttpResponse | undefined;
    let failure: unknown;
    try {
      response = await transport.send(request);
    } catch (error) {
      if (!isRetryableError(error)) throw error;
      failure = error;
    }
    if (response && !isRetryableStatus(response.status)) return response;
    const retryAfter = response ? parseRetryAfter(headerValue(response.headers['retry-after']), Date.now()) : undefined;
    const delay = nextDelay(policy, attempt, Date.now() - started, retryAfter);
    if (delay === undefined) {
      if (response) return response;
      const message = (failure as Error).message;
      throw new TransientRegistryError(
        `${request.method} ${request.url.host}${request.url.pathname} failed after ${attempt} attempts: ${message}`,
        0,
        [(failure as NodeJS.ErrnoException).code ?? 'CONNECTION'],
        'The connection to the registry keeps dropping; check the network or the registry and run again (what was pushed stays pushed).',
      );
    }
    onRetry?.({
      attempt,
      delayMs: delay,
      reason: response ? `HTTP ${response.status}` : ((failure as NodeJS.ErrnoException).code ?? (failure as Error).message),
      request,
    });
    await sleep(delay);
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
