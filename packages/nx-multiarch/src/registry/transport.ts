import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * One HTTP exchange over node:http(s). Chosen over the global fetch of Node 20
 * because a registry client needs three things fetch does not give without the
 * separate undici package: a custom CA per registry (https.Agent `ca`), file
 * bodies streamed with an exact Content-Length, and an exact count of the
 * bytes and requests sent (the push report and the benchmark read them).
 */

/** A request body: bytes in memory, or a byte range of a file streamed from disk. */
export type RequestBody = Buffer | FileBody;

export interface FileBody {
  path: string;
  /** First byte to send (default 0). */
  start?: number;
  /** Number of bytes to send from `start`. */
  length: number;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface TlsSettings {
  /** Trusted CA certificates (PEM); the system roots are added by the caller when wanted. */
  ca?: string[];
  /** Client certificate and key (PEM), for registries that ask for one. */
  cert?: string;
  key?: string;
  /** false only for registries the user listed as insecure. */
  rejectUnauthorized?: boolean;
}

export interface TransportOptions {
  tls?: TlsSettings;
  /** A socket idle for this long fails the request (a retryable ETIMEDOUT). */
  timeoutMs?: number;
  /** Parallel connections per registry. */
  maxSockets?: number;
}

/** What went over the wire, for the push report and the benchmark. */
export interface TransportStats {
  requests: number;
  /** Request body bytes written (blob and manifest uploads). */
  bytesSent: number;
  /** Response body bytes read. */
  bytesReceived: number;
}

export function bodyLength(body: RequestBody | undefined): number {
  // A Buffer's length, or the byte count of a file range.
  return body === undefined ? 0 : body.length;
}

export class Transport {
  readonly stats: TransportStats = { requests: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;

  constructor(options: TransportOptions = {}) {
    const maxSockets = options.maxSockets ?? 8;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: options.tls?.ca,
      cert: options.tls?.cert,
      key: options.tls?.key,
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    });
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    const { url } = request;
    const isHttps = url.protocol === 'https:';
    const module = isHttps ? https : http;
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    const length = bodyLength(request.body);
    if (request.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(request.method)) {
      headers['Content-Length'] = String(length);
    }
    this.stats.requests += 1;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const req = module.request(
        url,
        {
          method: request.method,
          headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            this.stats.bytesReceived += chunk.length;
            chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('aborted', () => fail(connectionError('ECONNRESET', 'response aborted')));
          res.on('end', () => {
            if (settled) return;
            if (!res.complete) {
              fail(connectionError('ECONNRESET', 'response ended early'));
              return;
            }
            settled = true;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('timeout', () => req.destroy(connectionError('ETIMEDOUT', `no data for ${this.timeoutMs} ms`)));
      req.on('error', fail);
      this.writeBody(req, request.body, fail);
    });
  }

  /** Closes idle keep-alive connections so a process can exit promptly. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private writeBody(req: http.ClientRequest, body: RequestBody | undefined, fail: (e: Error) => void): void {
    if (body === undefined) {
      req.end();
      return;
    }
    if (Buffer.isBuffer(body)) {
      req.end(body, () => {
        this.stats.bytesSent += body.length;
      });
      return;
    }
    if (body.length === 0) {
      req.end();
      return;
    }
    const start = body.start ?? 0;
    const stream = createReadStream(body.path, { start, end: start + body.length - 1 });
    stream.on('data', (chunk) => {
      this.stats.bytesSent += chunk.length;
    });
    stream.on('error', (error) => {
      req.destroy(error);
      fail(error);
    });
    req.on('close', () => stream.destroy());
    stream.pipe(req);
  }
}

function connectionError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}
