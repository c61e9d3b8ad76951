import { spawn } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { goTool } from '../supply-chain/cosign-tools';
import { stopChild, waitForStdout } from './server-process';

/**
 * Registries for the OCI 1.1 referrers tests, beside Debian's
 * docker-registry 2.8 (test/support/registry-server.ts), which has no
 * referrers API:
 *  - startReferrersRegistry: go-containerregistry's registry with the
 *    referrers API on (tools/referrers-registry, built by tools/setup.sh),
 *    in memory, on a free loopback port it picks itself;
 *  - refuseReferrers: a loopback proxy in front of any registry that answers
 *    every referrers request with the status given (a registry, or a proxy
 *    before it, that refuses the API) and passes everything else through.
 * Both are stopped by the caller; the child is killed by its own pid.
 */
export interface SimpleRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  stop(): Promise<void>;
}

export async function startReferrersRegistry(): Promise<SimpleRegistry> {
  const child = spawn(goTool('referrers-registry'), ['--address', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const host = await waitForStdout(
    child,
    (out) => /listening on (127\.0\.0\.1:\d+)/.exec(out)?.[1],
    15_000,
    (reason) => new Error(reason === 'timeout' ? `referrers-registry did not start within 15 s: ${stderr}` : `referrers-registry exited with ${reason}: ${stderr}`),
  );
  child.stdout?.resume();
  return { host, stop: () => stopChild(child) };
}

/** A proxy to `upstream` (host:port) whose referrers endpoint answers `status` with an OCI error body. */
export async function refuseReferrers(upstream: string, status: number): Promise<SimpleRegistry & { refused: () => number }> {
  let refused = 0;
  const [upstreamHost, upstreamPort] = upstream.split(':');
  const server: Server = createServer((req, res) => {
    if (/^\/v2\/.+\/referrers\//.test(req.url ?? '')) {
      refused += 1;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'referrers API disabled by policy' }] }));
      return;
    }
    const forward = request(
      { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } },
      (upstreamRes: IncomingMessage) => {
        // Location headers name the upstream; the client follows them relative to the proxy.
        const headers = { ...upstreamRes.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`http://${upstream}`, '');
        res.writeHead(upstreamRes.statusCode ?? 502, headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    refused: () => refused,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
