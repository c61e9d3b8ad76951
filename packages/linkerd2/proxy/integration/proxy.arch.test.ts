/**
 * The linkerd2 proxy image of one arch (the Rust proxy and proxy-init, both
 * cross-built for that arch), run by the arch-integration runner in front of
 * an upstream HTTP server on this machine: requests through the proxy get the
 * upstream's answers, /ready answers, and /metrics counts the connections and
 * the bytes exactly.
 *
 *   nx run linkerd2-proxy-image:arch-integration --arch=arm
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { freePort, httpGet, runImage, startImage, testContext, type ImageProcess } from 'nx-multiarch/integration';

const ctx = testContext();
const BIG_BODY = Buffer.alloc(64 * 1024, 'linkerd ');

interface Upstream {
  port: number;
  server: Server;
}

/** The application behind the proxy: says what it got, and echoes POST bodies. */
async function startUpstream(): Promise<Upstream> {
  const port = await freePort();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.setHeader('Content-Type', 'text/plain');
      res.end(req.method === 'POST' ? body : `upstream got ${req.method} ${req.url}\n`);
    });
  });
  // The image's processes reach this machine at testHostAddress (loopback unless the runner is remote).
  const host = ctx.testHostAddress === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0';
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { port, server };
}

interface Exchange {
  response: Buffer;
  /** The proxy reset the connection instead of closing it. */
  reset: boolean;
}

/** One HTTP/1.1 exchange on a new TCP connection, byte for byte: returns what came back and how it ended. */
function exchange(port: number, request: Buffer, timeoutMs = 20_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no complete answer through the proxy within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ response: Buffer.concat(chunks), reset: false });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNRESET') resolve({ response: Buffer.concat(chunks), reset: true });
      else reject(e);
    });
  });
}

function httpRequest(method: string, path: string, body = Buffer.alloc(0)): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), body]);
}

function bodyOf(response: Buffer): Buffer {
  return response.subarray(response.indexOf('\r\n\r\n') + 4);
}

type Metrics = Record<string, number>;

async function metrics(proxy: ImageProcess, adminPort: number): Promise<Metrics> {
  const answer = await httpGet(proxy.url(adminPort, '/metrics'));
  expect(answer.status).toBe(200);
  const samples: Metrics = {};
  for (const line of answer.body.split('\n')) {
    const match = /^(\w+)\{direction="(inbound|outbound)"\} (\d+)$/.exec(line);
    if (match) samples[`${match[1]}/${match[2]}`] = Number(match[3]);
  }
  return samples;
}

/** Polls /metrics until `done` holds (closes are counted when both directions have finished), bounded. */
async function metricsWhen(proxy: ImageProcess, adminPort: number, done: (m: Metrics) => boolean, timeoutMs = 15_000): Promise<Metrics> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await metrics(proxy, adminPort);
    if (done(m) || Date.now() > deadline) return m;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startProxy(forwardPort: number): Promise<{ proxy: ImageProcess; inbound: number; admin: number }> {
  const inbound = await freePort();
  const admin = await freePort();
  const proxy = await startImage({
    env: {
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${inbound}`,
      LINKERD2_PROXY_INBOUND_FORWARD_ADDR: `${ctx.testHostAddress}:${forwardPort}`,
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
    },
  });
  const ready = await proxy.waitForHttp(admin, '/ready');
  expect(ready.body).toBe('ready\n');
  return { proxy, inbound, admin };
}

describe(`linkerd2-proxy image on ${ctx.platform} (${ctx.runner})`, () => {
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream();
  });

  afterAll(() => new Promise<void>((resolve) => upstream.server.close(() => resolve())));

  it('carries the proxy and proxy-init built for the platform under test', async () => {
    const proxy = await runImage({ args: ['--version'] });
    expect(proxy.code).toBe(0);
    expect(proxy.stdout.trim().split(' ')).toEqual(['linkerd2-proxy', expect.any(String), ctx.platform]);
    const init = await runImage({ entrypoint: ['/usr/lib/linkerd/linkerd2-proxy-init'], args: ['--version'] });
    expect(init.code).toBe(0);
    expect(init.stdout.trim().split(' ')).toEqual(['linkerd2-proxy-init', expect.any(String), ctx.platform]);
  });

  it("forwards requests to the upstream, returns its answers, and counts connections and bytes", async () => {
    const { proxy, inbound, admin } = await startProxy(upstream.port);
    expect((await httpGet(proxy.url(admin, '/live'))).status).toBe(200);

    const requests = [
      httpRequest('GET', '/'),
      httpRequest('GET', '/api/emojis'),
      httpRequest('GET', '/healthz?probe=1'),
      httpRequest('POST', '/echo', BIG_BODY),
    ];
    let sent = 0;
    let received = 0;
    for (const [i, request] of requests.entries()) {
      const { response, reset } = await exchange(inbound, request);
      expect(reset).toBe(false);
      sent += request.length;
      received += response.length;
      expect(response.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const path = request.toString('latin1').split(' ')[1];
      if (i < 3) expect(bodyOf(response).toString()).toBe(`upstream got GET ${path}\n`);
      else expect(bodyOf(response).equals(BIG_BODY)).toBe(true);
    }

    const m = await metricsWhen(proxy, admin, (s) => s['tcp_close_total/inbound'] === requests.length);
    expect(m).toEqual({
      'tcp_open_total/inbound': requests.length,
      'tcp_open_total/outbound': 0,
      'tcp_close_total/inbound': requests.length,
      'tcp_close_total/outbound': 0,
      'tcp_read_bytes_total/inbound': sent,
      'tcp_read_bytes_total/outbound': 0,
      'tcp_write_bytes_total/inbound': received,
      'tcp_write_bytes_total/outbound': 0,
      'tcp_connect_error_total/inbound': 0,
      'tcp_connect_error_total/outbound': 0,
    });
    // The stop signal ends it (it needs no SIGKILL).
    expect(await proxy.stop()).not.toMatchObject({ signal: 'SIGKILL' });
  });

  it('counts a connection it cannot forward as a connect error', async () => {
    const closedPort = await freePort();
    const { proxy, inbound, admin } = await startProxy(closedPort);
    // The client gets no bytes: the connection is closed or reset, never answered.
    const { response } = await exchange(inbound, httpRequest('GET', '/'));
    expect(response.length).toBe(0);
    const m = await metricsWhen(proxy, admin, (s) => s['tcp_connect_error_total/inbound'] === 1);
    expect(m['tcp_connect_error_total/inbound']).toBe(1);
    expect(m['tcp_open_total/inbound']).toBe(1);
    await proxy.stop();
  });

  it('refuses to start without its forward address, naming the variable', async () => {
    const result = await runImage({ env: { LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('LINKERD2_PROXY_INBOUND_FORWARD_ADDR');
  });
});
