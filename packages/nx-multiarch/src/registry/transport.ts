import { createReadStream, createWriteStream } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
  /** Sees each chunk as it is sent, in order (the push hashes what it sends). */
  onChunk?: (chunk: Buffer) => void;
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

/**
 * Where `download` puts a response body it is told to keep: into a file,
 * chunk by chunk, never whole in memory.
 */
export interface DownloadTarget {
  /** The file the body is written to; created or truncated (the caller owns it). */
  path: string;
  /** Whether the body of an answer with this status goes to the file; other bodies (errors, redirects) are small and read into memory. */
  streamStatus: (status: number) => boolean;
  /** Sees each chunk before it is written, in order (to hash while streaming); a throw aborts the download with that error. */
  onChunk?: (chunk: Buffer) => void;
}

export interface DownloadResponse extends HttpResponse {
  /** True when the body went to the file (then `body` is empty). */
  streamed: boolean;
  /** Body bytes written to the file. */
  written: number;
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
    return this.exchange(request, (res) => this.collect(res));
  }

  /**
   * Like `send`, but a body the target wants (by status) is streamed into
   * the target's file with backpressure, so a blob of any size costs a few
   * chunks of memory. Resolves once the file is written and closed; rejects
   * with ECONNRESET when the body ends early (a retryable error).
   */
  async download(request: HttpRequest, target: DownloadTarget): Promise<DownloadResponse> {
    return this.exchange(request, async (res) => {
      const status = res.statusCode ?? 0;
      if (!target.streamStatus(status)) return { ...(await this.collect(res)), streamed: false, written: 0 };
      let written = 0;
      let chunkRefused = false;
      const meter = new Transform({
        transform: (chunk: Buffer, _encoding, done) => {
          this.stats.bytesReceived += chunk.length;
          try {
            target.onChunk?.(chunk);
          } catch (error) {
            chunkRefused = true;
            done(error as Error);
            return;
          }
          written += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(res, meter, createWriteStream(target.path, { flags: 'w' }));
      } catch (error) {
        // A refusal from onChunk and a failing disk stay as they are; a body cut short is a dropped connection.
        if (!res.complete && !chunkRefused) throw connectionError('ECONNRESET', `response ended early (${(error as Error).message})`);
        throw error;
      }
      if (!res.complete) throw connectionError('ECONNRESET', 'response ended early');
      return { status, headers: res.headers, body: Buffer.alloc(0), streamed: true, written };
    });
  }

  /**
   * Sends the request and hands the response to `read`. Until a response
   * arrives, errors of the request reject; from then on `read` alone
   * settles, since a broken connection shows on the response stream too
   * (and a download must not be declared failed while its file is still
   * being written).
   */
  private exchange<T>(request: HttpRequest, read: (res: IncomingMessage) => Promise<T>): Promise<T> {
    const { url } = request;
    const isHttps = url.protocol === 'https:';
    const module = isHttps ? https : http;
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    const length = bodyLength(request.body);
    if (request.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(request.method)) {
      headers['Content-Length'] = String(length);
    }
    this.stats.requests += 1;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let responded = false;
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
          responded = true;
          read(res).then((value) => {
            if (settled) return;
            settled = true;
            resolve(value);
          }, fail);
        },
      );
      req.on('timeout', () => req.destroy(connectionError('ETIMEDOUT', `no data for ${this.timeoutMs} ms`)));
      req.on('error', (error) => {
        if (!responded) fail(error);
      });
      this.writeBody(req, request.body, fail);
    });
  }

  /** The whole body in memory: for manifests, tokens and error texts. */
  private collect(res: IncomingMessage): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        this.stats.bytesReceived += chunk.length;
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) {
          reject(connectionError('ECONNRESET', 'response ended early'));
          return;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      // A connection dropped mid-body closes the response without 'end' (settling twice is harmless).
      res.on('close', () => {
        if (!res.complete) reject(connectionError('ECONNRESET', 'response aborted'));
      });
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
      body.onChunk?.(chunk as Buffer);
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
