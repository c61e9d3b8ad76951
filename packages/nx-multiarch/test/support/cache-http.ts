import * as http from 'node:http';
import type { Readable } from 'node:stream';

/** A raw HTTP exchange with a cache server, as a test needs it: every status, header and byte visible. */
export interface CacheExchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface CacheRequestOptions {
  method?: string;
  token?: string;
  /** Bytes (sent with Content-Length) or a stream (sent chunked). */
  body?: Buffer | Readable;
  headers?: Record<string, string>;
}

export function cacheRequest(baseUrl: string, path: string, options: CacheRequestOptions = {}): Promise<CacheExchange> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (Buffer.isBuffer(options.body)) headers['Content-Length'] = String(options.body.length);
    const request = http.request(new URL(path, baseUrl), { method: options.method ?? 'GET', headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (options.body === undefined) request.end();
    else if (Buffer.isBuffer(options.body)) request.end(options.body);
    else options.body.pipe(request);
  });
}

/** `/v1/cache/<hash>` */
export const entryPath = (hash: string) => `/v1/cache/${hash}`;
