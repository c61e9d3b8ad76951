import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on loopback between a push and a registry that records every
 * request: its method and path, when it started and when its answer ended
 * (on one clock shared by all requests, so "finished before started" is
 * exact even with uploads running in parallel), the status, and the bodies
 * of manifest PUTs (to know what each manifest names). `onRequest` sees each
 * request as it starts, to act at a chosen moment of a push (e.g. kill it).
 *
 * The registry builds upload Locations from the Host header, which is
 * forwarded as the proxy's own, so every request of a push stays on the proxy.
 */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Position on the shared clock when the request arrived. */
  started: number;
  /** Position when the answer was complete; undefined if it never was (killed, dropped). */
  finished?: number;
  /** Position when the connection closed without a complete answer (a dropped or killed request). */
  abandoned?: number;
  status?: number;
  /** The body of a manifest PUT. */
  body?: Buffer;
}

export interface RecordingProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const MANIFEST_PUT = /^\/v2\/.+\/manifests\/[^/]+$/;

export async function startRecordingProxy(upstreamPort: number, onRequest?: (request: RecordedRequest) => void): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  let clock = 0;
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', started: ++clock };
    requests.push(record);
    onRequest?.(record);
    const keepBody = record.method === 'PUT' && MANIFEST_PUT.test(record.path.split('?')[0]);
    const chunks: Buffer[] = [];
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => (record.finished = ++clock));
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (record.finished === undefined) record.abandoned = ++clock;
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      if (keepBody) chunks.push(chunk);
    });
    req.on('end', () => {
      if (keepBody) record.body = Buffer.concat(chunks);
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
