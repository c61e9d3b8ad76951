import { createConnection, createServer, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on loopback that sits between a client and a registry and
 * breaks some connections on purpose. Each new client connection takes the
 * next fault from a fixed script (so a run is bounded and repeatable); once
 * the script is used up, connections pass through untouched.
 */
export type Fault =
  | { kind: 'pass' }
  /** Answer the first request on the connection with this status and close it. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Forward, then reset both sides once the client has sent this many bytes (a drop mid-upload). */
  | { kind: 'drop'; afterBytes: number };

export interface FaultProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  connections: number;
  injected: { status: number; drop: number };
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 408: 'Request Timeout' };

export async function startFaultProxy(upstreamPort: number, script: readonly Fault[], repeatLast = false): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let next = 0;
  const state = { connections: 0, injected: { status: 0, drop: 0 } };

  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    state.connections += 1;
    const fault: Fault = next < script.length ? script[next++] : repeatLast && script.length > 0 ? script[script.length - 1] : { kind: 'pass' };

    if (fault.kind === 'status') {
      client.once('data', () => {
        state.injected.status += 1;
        const headers = [`HTTP/1.1 ${fault.status} ${REASONS[fault.status] ?? 'Error'}`, 'Content-Length: 0', 'Connection: close'];
        if (fault.retryAfterSeconds !== undefined) headers.push(`Retry-After: ${fault.retryAfterSeconds}`);
        client.end(`${headers.join('\r\n')}\r\n\r\n`);
      });
      return;
    }

    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      if (fault.kind === 'drop') {
        sent += chunk.length;
        if (sent >= fault.afterBytes) {
          state.injected.drop += 1;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
      }
      upstream.write(chunk);
    });
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}
