import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { formatError } from '../errors';
import { routeOf, type CacheKey } from './cache-key';
import { Admission, DEFAULT_LIMITS, type AdmissionLimits } from './admission';
import type { Logger } from './logger';
import { declaredLength, drainBody, IncompleteUploadError, receiveUpload, UploadTooLargeError } from './receive-upload';
import { CorruptEntryError, type CacheStorage } from './storage';
import { bearerToken, type Access, type TokenSet } from './tokens';

export interface CacheServerOptions {
  storage: CacheStorage;
  tokens: TokenSet;
  /** Largest entry accepted, in bytes; larger uploads get 413. */
  maxEntryBytes: number;
  logger: Logger;
  /** A connection silent for this long is closed (a stalled client must not hold a socket forever). */
  idleTimeoutMs?: number;
  /** PEM certificate and key: serve https. */
  tls?: { cert: Buffer; key: Buffer };
  /** Concurrency, queue and memory caps (default DEFAULT_LIMITS). */
  limits?: AdmissionLimits;
}

export const HEALTH_PATH = '/health';

/** What the log line of a request says about it. */
interface Outcome {
  status: number;
  bytes: number;
  access: Access | 'none';
  note?: string;
}

/**
 * The Nx self-hosted remote cache protocol, as Nx's own client (Rust, reqwest)
 * speaks it:
 *
 *   GET /v1/cache/{hash}  200 + the entry (application/octet-stream) | 404
 *   PUT /v1/cache/{hash}  200 stored | 409 exists | 403 read-only token | 413 too large
 *   401 on a missing or unknown token, with Content-Type exactly `text/plain`:
 *   Nx reads the body as the reason only then, and otherwise reports a
 *   misconfigured server.
 *
 * Nx counts only 200 as stored; 409 and 403 it takes quietly. Every other
 * status is an error to it.
 */
export function createCacheServer(options: CacheServerOptions): http.Server {
  const admission = new Admission(options.limits ?? DEFAULT_LIMITS);
  const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const started = Date.now();
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0];
    admitted(admission, options, request, response, path)
      .catch((error: unknown) => {
        options.logger.error(`${method} ${path}: ${formatError(error)}`);
        if (!response.headersSent) return reply(response, 500, 'internal error; see the cache server log\n', 'none');
        response.destroy();
        return { status: 500, bytes: 0, access: 'none' as const, note: 'failed while streaming' };
      })
      .then((outcome) => {
        const note = outcome.note ? ` (${outcome.note})` : '';
        options.logger.info(`${method} ${path} ${outcome.status} ${outcome.bytes}B ${Date.now() - started}ms token=${outcome.access}${note}`);
      })
      .catch(() => undefined);
  };
  const server: http.Server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : http.createServer(onRequest);
  // Node's default closes any request not complete within 5 minutes: too short
  // for a large entry on a slow link. Idle sockets are closed instead.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.setTimeout(options.idleTimeoutMs ?? 120_000, (socket) => socket.destroy());
  return server;
}

/**
 * Runs the request once admitted; a request over the caps gets 503 with
 * Retry-After (and the connection closed, so an upload's body is not read).
 * /health is always answered: a probe must see the server alive while busy.
 */
async function admitted(admission: Admission, options: CacheServerOptions, request: http.IncomingMessage, response: http.ServerResponse, path: string): Promise<Outcome> {
  if (path === HEALTH_PATH) return handle(options, request, response);
  const entered = await admission.enter();
  if (typeof entered !== 'function') {
    const retryAfter = String(admission.limits.retryAfterSeconds);
    const outcome = reply(response, 503, `server busy (${entered.reason}); retry after ${retryAfter} s\n`, 'none', `refused: ${entered.detail}`, 0, {
      'Retry-After': retryAfter,
      Connection: 'close',
    });
    return outcome;
  }
  try {
    return await handle(options, request, response);
  } finally {
    entered();
  }
}

async function handle(options: CacheServerOptions, request: http.IncomingMessage, response: http.ServerResponse): Promise<Outcome> {
  const method = request.method ?? 'GET';
  const path = (request.url ?? '/').split('?')[0];

  if (path === HEALTH_PATH) {
    if (method !== 'GET' && method !== 'HEAD') return refuse(request, response, 405, 'use GET /health\n', 'none', { Allow: 'GET, HEAD' });
    return health(options, response, method === 'HEAD');
  }

  const route = routeOf(path);
  if (route.kind === 'other') return refuse(request, response, 404, 'not found; the cache lives under /v1/cache/{hash}\n', 'none');

  const token = bearerToken(headerText(request.headers.authorization));
  if (token === undefined) return refuse(request, response, 401, 'missing bearer token\n', 'none', { 'WWW-Authenticate': 'Bearer' });
  const access = options.tokens.accessOf(token);
  if (access === undefined) return refuse(request, response, 401, 'unknown token\n', 'none', { 'WWW-Authenticate': 'Bearer' });

  if (route.kind === 'bad-key') return refuse(request, response, 400, 'not a cache hash: use letters, digits, _ or - (at most 128)\n', access);

  if (method === 'GET' || method === 'HEAD') return get(options, response, route.key, access, method === 'HEAD');
  if (method === 'PUT') return put(options, request, response, route.key, access);
  return refuse(request, response, 405, 'use GET or PUT\n', access, { Allow: 'GET, HEAD, PUT' });
}

async function health(options: CacheServerOptions, response: http.ServerResponse, headOnly: boolean): Promise<Outcome> {
  let status = 200;
  let body: { status: 'ok' | 'unavailable'; storage: string; error?: string };
  try {
    await options.storage.checkHealth();
    body = { status: 'ok', storage: options.storage.description };
  } catch (error) {
    status = 503;
    body = { status: 'unavailable', storage: options.storage.description, error: (error as Error).message };
    options.logger.error(`health check failed: ${formatError(error)}`);
  }
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(headOnly ? undefined : text);
  return { status, bytes: 0, access: 'none' };
}

async function get(options: CacheServerOptions, response: http.ServerResponse, key: CacheKey, access: Access, headOnly: boolean): Promise<Outcome> {
  let entry;
  try {
    entry = await options.storage.open(key);
  } catch (error) {
    if (!(error instanceof CorruptEntryError)) throw error;
    // Never serve bytes that do not match their record: Nx would unpack them as task outputs.
    options.logger.error(`refused to serve: ${formatError(error)}`);
    return reply(response, 500, `cache entry ${key} is corrupted on the server and was not served\n`, access, 'corrupt entry');
  }
  if (!entry) return reply(response, 404, 'no such cache entry\n', access);
  response.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': entry.size,
    ETag: `"${entry.digest}"`,
    'Cache-Control': 'no-store',
  });
  if (headOnly) {
    await entry.discard();
    response.end();
    return { status: 200, bytes: 0, access };
  }
  await pipeline(entry.stream(), response);
  return { status: 200, bytes: entry.size, access };
}

async function put(
  options: CacheServerOptions,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  key: CacheKey,
  access: Access,
): Promise<Outcome> {
  if (access !== 'read-write') return refuse(request, response, 403, 'this token may only read\n', access);
  const length = declaredLength(request);
  if (length !== undefined && length > options.maxEntryBytes) return tooLarge(response, options.maxEntryBytes, access);
  if (length === 0) return refuse(request, response, 400, 'empty body: an entry needs bytes\n', access);
  if (await options.storage.has(key)) return refuse(request, response, 409, 'entry exists\n', access);

  let upload;
  try {
    upload = await receiveUpload(request, options.storage.uploadDir, options.maxEntryBytes);
  } catch (error) {
    if (error instanceof UploadTooLargeError) return tooLarge(response, options.maxEntryBytes, access);
    if (error instanceof IncompleteUploadError) {
      response.destroy();
      return { status: 400, bytes: 0, access, note: `${error.message}; nothing stored` };
    }
    throw error;
  }
  const outcome = await options.storage.put(key, upload);
  if (outcome === 'exists') return reply(response, 409, 'entry exists\n', access, 'lost a race with another upload');
  return reply(response, 200, 'stored\n', access, undefined, upload.size);
}

/** Answers 413 and closes the connection: reading gigabytes only to refuse them helps nobody. */
function tooLarge(response: http.ServerResponse, limit: number, access: Access): Outcome {
  response.setHeader('Connection', 'close');
  return reply(response, 413, `entry larger than the server's limit of ${limit} bytes\n`, access);
}

/**
 * A refusal before the body is read. The body is read and dropped first, so
 * the client gets our answer on an intact connection instead of a reset while
 * it is still sending (409 and 403 are normal answers for Nx, not failures).
 */
async function refuse(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  status: number,
  text: string,
  access: Access | 'none',
  headers: Record<string, string> = {},
): Promise<Outcome> {
  await drainBody(request);
  return reply(response, status, text, access, undefined, 0, headers);
}

function reply(
  response: http.ServerResponse,
  status: number,
  text: string,
  access: Access | 'none',
  note?: string,
  bytes = 0,
  headers: Record<string, string> = {},
): Outcome {
  // Exactly `text/plain`: Nx compares the whole header value on a 401.
  response.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers });
  response.end(text);
  return { status, bytes, access, note };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export function listen(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting, lets running requests finish, drops idle keep-alive
 * sockets, and after `graceMs` cuts whatever is still open (a stalled client
 * must not hold a shutdown for the whole idle timeout).
 */
export function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
