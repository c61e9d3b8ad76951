/**
 * The linkerd2 proxy image of one arch (the Rust proxy and proxy-init, both
 * cross-built for that arch), run by the arch-integration runner in front of
 * an upstream HTTP server on this machine: requests through the proxy get the
 * upstream's answers, /ready answers, and /metrics counts the connections and
 * the bytes exactly. Two proxies of the image then carry traffic over TLS
 * (rustls with ring: C and assembly compiled for the arch), the outbound one
 * originating it and the inbound one terminating it, and Node's OpenSSL talks
 * TLS to the inbound one directly: that is what proves the cross-compiled
 * crypto is right on the arch under test.
 *
 *   nx run linkerd2-proxy-image:arch-integration --arch=arm
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort, httpGet, runImage, startImage, testContext, type ImageProcess } from 'nx-multiarch/integration';

const ctx = testContext();
const BIG_BODY = Buffer.alloc(64 * 1024, 'linkerd ');

interface Upstream {
  port: number;
  server: Server;
  /** Requests the upstream has answered. */
  requests: () => number;
}

/** The application behind the proxy: says what it got, and echoes POST bodies. */
async function startUpstream(): Promise<Upstream> {
  const port = await freePort();
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
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
  return { port, server, requests: () => requests };
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
      'tls_handshake_error_total/inbound': 0,
      'tls_handshake_error_total/outbound': 0,
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

/** A throwaway CA and a server certificate it issued for `name`, made with the openssl CLI; PEM texts. */
interface Pki {
  ca: string;
  cert: string;
  key: string;
}

function makePki(name: string): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'linkerd2-proxy-pki-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=linkerd2-proxy test CA']);
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${name}`]);
    writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${name}\nbasicConstraints=CA:FALSE\n`);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return { ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One HTTP/1.1 exchange over TLS straight to a TLS listener, verified against `ca` for `servername`. */
function tlsExchange(port: number, ca: string, servername: string, request: Buffer, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no complete TLS answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('secureConnect', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe(`linkerd2-proxy TLS between two proxies on ${ctx.platform} (${ctx.runner})`, () => {
  const NAME = 'web.linkerd-test.svc';
  let upstream: Upstream;
  let pki: Pki;

  beforeAll(async () => {
    upstream = await startUpstream();
    pki = makePki(NAME);
  });

  afterAll(() => new Promise<void>((resolve) => upstream.server.close(() => resolve())));

  /** The inbound proxy: terminates TLS (certificate and key given as PEM text) in front of the upstream. */
  async function startInbound(): Promise<{ proxy: ImageProcess; inbound: number; admin: number }> {
    const inbound = await freePort();
    const admin = await freePort();
    const proxy = await startImage({
      env: {
        LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${inbound}`,
        LINKERD2_PROXY_INBOUND_FORWARD_ADDR: `${ctx.testHostAddress}:${upstream.port}`,
        LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
        LINKERD2_PROXY_INBOUND_TLS_CERT: pki.cert,
        LINKERD2_PROXY_INBOUND_TLS_KEY: pki.key,
      },
    });
    await proxy.waitForHttp(admin, '/ready');
    return { proxy, inbound, admin };
  }

  /** The outbound proxy: originates TLS to `forwardPort`, trusting the test CA for NAME. */
  async function startOutbound(forwardPort: number): Promise<{ proxy: ImageProcess; outbound: number; admin: number }> {
    const outbound = await freePort();
    const admin = await freePort();
    const proxy = await startImage({
      env: {
        LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
        LINKERD2_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${await freePort()}`,
        LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: `127.0.0.1:${outbound}`,
        LINKERD2_PROXY_OUTBOUND_FORWARD_ADDR: `127.0.0.1:${forwardPort}`,
        LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
        LINKERD2_PROXY_OUTBOUND_TLS_CA: pki.ca,
        LINKERD2_PROXY_OUTBOUND_TLS_NAME: NAME,
      },
    });
    await proxy.waitForHttp(admin, '/ready');
    return { proxy, outbound, admin };
  }

  it('carries requests from the outbound proxy to the inbound proxy over TLS, byte for byte', async () => {
    const inbound = await startInbound();
    const outbound = await startOutbound(inbound.inbound);
    const requests = [httpRequest('GET', '/tls'), httpRequest('POST', '/echo', BIG_BODY)];
    let sent = 0;
    let received = 0;
    for (const [i, request] of requests.entries()) {
      const { response, reset } = await exchange(outbound.outbound, request);
      expect(reset).toBe(false);
      expect(response.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      if (i === 0) expect(bodyOf(response).toString()).toBe('upstream got GET /tls\n');
      else expect(bodyOf(response).equals(BIG_BODY)).toBe(true);
      sent += request.length;
      received += response.length;
    }
    const n = requests.length;
    const out = await metricsWhen(outbound.proxy, outbound.admin, (m) => m['tcp_close_total/outbound'] === n);
    const inn = await metricsWhen(inbound.proxy, inbound.admin, (m) => m['tcp_close_total/inbound'] === n);
    // Each side counts the plaintext it carried: the same bytes on both.
    expect([out['tcp_read_bytes_total/outbound'], out['tcp_write_bytes_total/outbound'], out['tls_handshake_error_total/outbound']]).toEqual([sent, received, 0]);
    expect([inn['tcp_read_bytes_total/inbound'], inn['tcp_write_bytes_total/inbound'], inn['tls_handshake_error_total/inbound']]).toEqual([sent, received, 0]);
    await outbound.proxy.stop();
    await inbound.proxy.stop();
  });

  it('terminates TLS that OpenSSL (Node) originates, and forwards nothing from a plaintext client', async () => {
    const { proxy, inbound, admin } = await startInbound();
    const answer = await tlsExchange(inbound, pki.ca, NAME, httpRequest('GET', '/from-openssl'));
    expect(bodyOf(answer).toString()).toBe('upstream got GET /from-openssl\n');

    const before = upstream.requests();
    const plain = await exchange(inbound, httpRequest('GET', '/plaintext'));
    expect(plain.response.toString('latin1')).not.toContain('upstream got');
    const m = await metricsWhen(proxy, admin, (s) => s['tls_handshake_error_total/inbound'] === 1 && s['tcp_close_total/inbound'] === 2);
    expect(m['tls_handshake_error_total/inbound']).toBe(1);
    expect(upstream.requests()).toBe(before);
    await proxy.stop();
  });
});
