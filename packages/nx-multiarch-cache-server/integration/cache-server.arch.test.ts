/**
 * The cache-server image of one arch, started by the arch-integration
 * runner: the health check answers, a trusted client stores an entry, a
 * read-only client gets it back byte for byte and may not write.
 *
 *   nx run nx-multiarch-cache-server:arch-integration --arch=arm64
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet, startImage, testContext } from 'nx-multiarch/integration';

const ctx = testContext();
const RW = 'rw-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';

function send(url: string, method: 'GET' | 'PUT', token: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body) Object.assign(headers, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    const req = request(url, { method, headers, agent: false, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe(`nx-multiarch-cache-server image on ${ctx.platform} (${ctx.runner})`, () => {
  let storage: string;
  beforeAll(() => {
    storage = mkdtempSync(join(tmpdir(), 'nxm-cache-image-'));
  });
  afterAll(() => rmSync(storage, { recursive: true, force: true }));

  it('serves /health, stores with the read-write token, and serves read-only clients', async () => {
    const port = await freePort();
    // The qemu runner shares the host's file system; in a container the image's own folder is
    // used, which also checks that the server's user (65534) may write there.
    const storageUrl = ctx.runner === 'qemu' ? `file://${storage}` : 'file:///var/cache/nx';
    const server = await startImage({
      args: ['--host', '127.0.0.1', '--port', String(port), '--storage', storageUrl, '--read-write-token-env', 'NX_CACHE_READ_WRITE_TOKEN', '--read-only-token-env', 'NX_CACHE_READ_ONLY_TOKEN'],
      env: { NX_CACHE_READ_WRITE_TOKEN: RW, NX_CACHE_READ_ONLY_TOKEN: RO },
    });
    // Node under emulation starts in seconds, not milliseconds.
    const health = await server.waitForHttp(port, '/health', { timeoutMs: 90_000 });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok', storage: storageUrl });

    const entry = Buffer.from(`an Nx cache entry built for ${ctx.platform}\n`);
    const url = server.url(port, '/v1/cache/1234567890');
    expect((await send(url, 'PUT', RO, entry)).status).toBe(403);
    expect((await send(url, 'PUT', RW, entry)).status).toBe(200);
    const read = await send(url, 'GET', RO, undefined);
    expect(read.status).toBe(200);
    expect(read.body.equals(entry)).toBe(true);
    expect((await httpGet(server.url(port, '/v1/cache/1234567890'))).status).toBe(401);
    // Tokens never reach the log.
    expect(server.stderr()).not.toContain(RW);
    expect(server.stderr()).not.toContain(RO);
    await server.stop();
  });
});
