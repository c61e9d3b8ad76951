import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileStorage } from '../../src/cache-server/file-storage';
import type { Logger } from '../../src/cache-server/logger';
import { closeServer, createCacheServer, listen } from '../../src/cache-server/server';
import { TokenSet } from '../../src/cache-server/tokens';
import { cacheRequest, entryPath } from '../support/cache-http';

/**
 * The server over real loopback HTTP with the file backend: every status of
 * the protocol, the limits, cut-short uploads, races and corrupted entries.
 */
const RW = `rw-${randomBytes(16).toString('hex')}`;
const RO = `ro-${randomBytes(16).toString('hex')}`;
const LIMIT = 1024 * 1024;

describe('cache server with file storage', () => {
  let root: string;
  let storage: FileStorage;
  let url: string;
  let stop: () => Promise<void>;
  const lines: string[] = [];
  const logger: Logger = { info: (m) => lines.push(`info ${m}`), error: (m) => lines.push(`error ${m}`) };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-cache-file-'));
    storage = await FileStorage.create(join(root, 'store'));
    const server = createCacheServer({ storage, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: LIMIT, logger });
    const address = await listen(server, '127.0.0.1', 0);
    url = `http://127.0.0.1:${address.port}`;
    stop = () => closeServer(server);
  });
  afterAll(async () => {
    await stop?.();
    await rm(root, { recursive: true, force: true });
  });

  const put = (hash: string, body: Buffer | Readable, token = RW) => cacheRequest(url, entryPath(hash), { method: 'PUT', token, body });
  const get = (hash: string, token = RO) => cacheRequest(url, entryPath(hash), { token });
  const uploadsLeft = async () => readdir(join(root, 'store', 'uploads'));

  it('answers /health without a token', async () => {
    const res = await cacheRequest(url, '/health');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok', storage: `file://${join(root, 'store')}` });
  });

  it('answers 401 with exactly text/plain to a missing or unknown token (Nx shows the body only then)', async () => {
    for (const token of [undefined, `rw-${randomBytes(16).toString('hex')}`]) {
      const res = await cacheRequest(url, entryPath('1'), { token });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('text/plain');
    }
  });

  it('stores with a read-write token (200), serves the same bytes to a read-only token, and answers 409 to a second upload', async () => {
    const entry = randomBytes(200_000);
    expect((await get('1001')).status).toBe(404);
    expect((await put('1001', entry)).status).toBe(200);
    const hit = await get('1001');
    expect(hit.status).toBe(200);
    expect(hit.headers['content-type']).toBe('application/octet-stream');
    expect(Number(hit.headers['content-length'])).toBe(entry.length);
    expect(hit.body.equals(entry)).toBe(true);
    const again = await put('1001', randomBytes(10));
    expect(again.status).toBe(409);
    expect((await get('1001')).body.equals(entry)).toBe(true);
  });

  it('refuses writes with a read-only token (403) and stores nothing', async () => {
    const res = await put('1002', randomBytes(1000), RO);
    expect(res.status).toBe(403);
    expect((await get('1002')).status).toBe(404);
  });

  it('refuses an entry over the size limit (413), announced or streamed, and leaves nothing behind', async () => {
    expect((await put('1003', Buffer.alloc(LIMIT + 1))).status).toBe(413);
    const chunks = Array.from({ length: 20 }, () => randomBytes(LIMIT / 10));
    expect((await put('1004', Readable.from(chunks))).status).toBe(413);
    expect((await get('1003')).status).toBe(404);
    expect((await get('1004')).status).toBe(404);
    expect(await uploadsLeft()).toEqual([]);
    // Exactly the limit is fine.
    expect((await put('1005', randomBytes(LIMIT))).status).toBe(200);
  });

  it('drops an upload cut short by the client: no entry, no file', async () => {
    const { port } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(`PUT ${entryPath('1006')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${RW}\r\nContent-Length: 100000\r\n\r\n`);
        socket.write(randomBytes(30_000), () => setTimeout(() => socket.destroy(), 100));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await get('1006')).status).toBe(404);
    expect(await uploadsLeft()).toEqual([]);
    expect(lines.some((l) => l.includes(`PUT ${entryPath('1006')} 400`) && l.includes('nothing stored'))).toBe(true);
  });

  it('stores a hash once when uploads race: one 200, the rest 409, and the entry is whole', async () => {
    const bodies = Array.from({ length: 6 }, () => randomBytes(300_000));
    const results = await Promise.all(bodies.map((body) => put('1007', body)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const served = (await get('1007')).body;
    expect(bodies.some((b) => b.equals(served))).toBe(true);
  });

  it('refuses a corrupted entry (500, logged), sets it aside, and takes a fresh upload of the hash', async () => {
    const entry = randomBytes(50_000);
    expect((await put('1008', entry)).status).toBe(200);
    const record = JSON.parse(await readFile(join(root, 'store', 'entries', '1008'), 'utf8')) as { digest: string };
    const blob = join(root, 'store', 'blobs', 'sha256', record.digest.slice('sha256:'.length));
    const damaged = Buffer.from(entry);
    damaged[1234] ^= 0xff;
    await writeFile(blob, damaged);

    const refused = await get('1008');
    expect(refused.status).toBe(500);
    expect(refused.body.includes(damaged.subarray(0, 64))).toBe(false);
    expect(lines.some((l) => l.startsWith('error') && l.includes('Cache entry 1008 is corrupted'))).toBe(true);
    expect(await readdir(join(root, 'store', 'quarantine'))).toEqual([expect.stringMatching(/^1008\./)]);

    expect((await get('1008')).status).toBe(404);
    expect((await put('1008', entry)).status).toBe(200);
    expect((await get('1008')).body.equals(entry)).toBe(true);
  });

  it('answers 400 to a malformed hash, 404 off the protocol and 405 to other methods', async () => {
    expect((await cacheRequest(url, '/v1/cache/a.b', { token: RO })).status).toBe(400);
    expect((await cacheRequest(url, '/v2/', { token: RO })).status).toBe(404);
    expect((await cacheRequest(url, entryPath('1'), { method: 'DELETE', token: RW })).status).toBe(405);
  });

  it('streams entries instead of holding them in memory', async () => {
    const size = 256 * 1024 * 1024;
    const server = createCacheServer({ storage, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: size, logger });
    const { port } = await listen(server, '127.0.0.1', 0);
    const big = `http://127.0.0.1:${port}`;
    const chunk = randomBytes(1024 * 1024);
    global.gc?.();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers - base.arrayBuffers + (now.heapUsed - base.heapUsed));
    }, 10);
    try {
      const body = Readable.from((function* () {
        for (let i = 0; i < size / chunk.length; i++) yield chunk;
      })());
      expect((await cacheRequest(big, entryPath('1009'), { method: 'PUT', token: RW, body })).status).toBe(200);
      let received = 0;
      const status = await new Promise<number>((resolve, reject) => {
        require('node:http')
          .get(`${big}${entryPath('1009')}`, { headers: { Authorization: `Bearer ${RO}` }, agent: false }, (res: import('node:http').IncomingMessage) => {
            res.on('data', (c: Buffer) => (received += c.length));
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
      expect(received).toBe(size);
    } finally {
      clearInterval(sampler);
      await closeServer(server);
    }
    // Holding the entry would take 256 MiB; streaming stays within a few buffers.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
  });

  it('never writes a token into its log', () => {
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).not.toContain(RW);
      expect(line).not.toContain(RO);
    }
  });
});
