import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/cache-server/file-storage';
import type { CacheKey } from '../../src/cache-server/cache-key';
import { closeServer, createCacheServer, listen } from '../../src/cache-server/server';
import { TokenSet } from '../../src/cache-server/tokens';
import { run } from '../../src/util/exec';
import { cacheRequest, entryPath } from '../support/cache-http';
import { BIN, ensurePluginBuilt, startCacheServer } from '../support/cache-server';

/**
 * Retention of the file store: filled past its limit, the least recently
 * used entries go and the recently used stay; an entry being read is never
 * removed; the prune command does the same from outside, and refuses what it
 * cannot do with a clear message.
 */
const RW = `rw-${randomBytes(16).toString('hex')}`;
const RO = `ro-${randomBytes(16).toString('hex')}`;
const KIB = 1024;
const HOUR = 3_600_000;

describe('cache retention (file store)', () => {
  let root: string;
  let storage: FileStorage;
  let url: string;
  let stop: () => Promise<void>;
  const bodies = new Map<string, Buffer>();

  const key = (i: number) => createHash('sha256').update(`retention-${i}`).digest('hex').slice(0, 32);
  const get = (k: string) => cacheRequest(url, entryPath(k), { token: RO });
  /** Marks an entry as last used `hoursAgo` hours ago (what the server writes on every hit). */
  const lastUsed = (k: string, hoursAgo: number) => {
    const then = new Date(Date.now() - hoursAgo * HOUR);
    return utimes(join(root, 'store', 'entries', k), then, then);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-cache-retention-'));
    storage = await FileStorage.create(join(root, 'store'));
    const server = createCacheServer({ storage, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: 16 * 1024 * KIB, logger: { info: () => undefined, error: () => undefined } });
    url = `http://127.0.0.1:${(await listen(server, '127.0.0.1', 0)).port}`;
    stop = () => closeServer(server);
  });
  afterAll(async () => {
    await stop?.();
    await rm(root, { recursive: true, force: true });
  });

  it('filled past its size limit, keeps the most recently used entries that fit and removes the rest with their blobs', async () => {
    // Ten entries of 100 KiB (1000 KiB), entry i last used i hours ago; entry 9 then read now.
    for (let i = 0; i < 10; i++) {
      const body = randomBytes(100 * KIB);
      bodies.set(key(i), body);
      expect((await cacheRequest(url, entryPath(key(i)), { method: 'PUT', token: RW, body })).status).toBe(200);
      await lastUsed(key(i), i);
    }
    expect((await get(key(9))).status).toBe(200); // a hit makes it the most recent

    const result = await storage.prune({ maxTotalBytes: 450 * KIB });
    // Kept: 9 (just read), 0, 1, 2 = 400 KiB; the fifth would pass 450 KiB.
    expect(result).toMatchObject({ examined: 10, freedBytes: 600 * KIB, keptBytes: 400 * KIB, skippedInUse: [] });
    expect(result.removed.sort()).toEqual([3, 4, 5, 6, 7, 8].map(key).sort());
    for (const i of [9, 0, 1, 2]) {
      const got = await get(key(i));
      expect(got.status).toBe(200);
      expect(got.body.equals(bodies.get(key(i))!)).toBe(true);
    }
    for (const i of [3, 4, 5, 6, 7, 8]) expect((await get(key(i))).status).toBe(404);
    expect(await readdir(join(root, 'store', 'blobs', 'sha256'))).toHaveLength(4);
    // A removed hash can be stored again by the next trusted build.
    expect((await cacheRequest(url, entryPath(key(3)), { method: 'PUT', token: RW, body: bodies.get(key(3))! })).status).toBe(200);
  });

  it('removes entries unused for longer than the age limit, and keeps a blob another entry shares', async () => {
    const shared = randomBytes(64 * KIB);
    for (const k of ['shared-old', 'shared-new']) expect((await cacheRequest(url, entryPath(k), { method: 'PUT', token: RW, body: shared })).status).toBe(200);
    await lastUsed('shared-old', 48);
    const result = await storage.prune({ maxAgeMs: 24 * HOUR });
    expect(result.removed).toContain('shared-old');
    expect(result.removed).not.toContain('shared-new');
    expect((await get('shared-old')).status).toBe(404);
    const kept = await get('shared-new');
    expect(kept.status).toBe(200);
    expect(kept.body.equals(shared)).toBe(true);
  });

  it('never removes an entry being read; the read completes whole, and the next prune takes it', async () => {
    const k = key(0);
    const reading = await storage.open(k as CacheKey);
    expect(reading).toBeDefined();
    // A limit nothing fits in: everything goes but the entry being read.
    const during = await storage.prune({ maxTotalBytes: 1 });
    expect(during.skippedInUse).toEqual([k]);
    expect(during.removed).not.toContain(k);
    expect(during.removed.length).toBeGreaterThan(0);
    const chunks: Buffer[] = [];
    for await (const chunk of reading!.stream()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bodies.get(k)!)).toBe(true);
    // The read refreshed its last use: age it again, and now nothing holds it.
    await lastUsed(k, 100);
    const after = await storage.prune({ maxAgeMs: 50 * HOUR });
    expect(after.removed).toEqual([k]);
    expect((await get(k)).status).toBe(404);
  });

  describe('the prune command', () => {
    beforeAll(() => ensurePluginBuilt(), 300_000);

    it('prunes a store by age from outside the server, and a dry run removes nothing', async () => {
      const k = 'prune-command-entry';
      expect((await cacheRequest(url, entryPath(k), { method: 'PUT', token: RW, body: randomBytes(100 * KIB) })).status).toBe(200);
      await lastUsed(k, 30);
      const storageArg = `file://${join(root, 'store')}`;
      const dry = await run(process.execPath, [BIN, 'cache-server', 'prune', '--storage', storageArg, '--max-age', '1d', '--dry-run']);
      expect(dry.exitCode).toBe(0);
      expect(dry.stdout).toMatch(/^prune: would remove 1 of 1 entries \(102400 bytes\)/);
      expect((await get(k)).status).toBe(200);
      // The hit just now refreshed it: age it again.
      await lastUsed(k, 30);
      const real = await run(process.execPath, [BIN, 'cache-server', 'prune', '--storage', storageArg, '--max-age', '1d']);
      expect(real.exitCode).toBe(0);
      expect(real.stdout).toContain(`prune: removed 1 of`);
      expect(real.stdout).toContain(`  ${k}\n`);
      expect((await get(k)).status).toBe(404);
    });

    it('the server applies --max-size itself at start, and says so in its log', async () => {
      const k = 'server-policy-entry';
      expect((await cacheRequest(url, entryPath(k), { method: 'PUT', token: RW, body: randomBytes(100 * KIB) })).status).toBe(200);
      const server = await startCacheServer({ storage: `file://${join(root, 'store')}`, extraArgs: ['--max-size', '1KiB'] });
      try {
        const deadline = Date.now() + 10_000;
        while (!/prune: removed/.test(server.log()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(server.log()).toMatch(/prune: removed 1 of 1 entries \(102400 bytes\), 0 bytes kept/);
      } finally {
        await server.stop();
      }
      expect((await get(k)).status).toBe(404);
    });

    it('refuses a prune without a policy or with a bad duration, each with a hint', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--storage', `file://${root}/x`], /needs a policy\.\n\s+hint: Give --max-age/],
        [['--storage', `file://${root}/x`, '--max-age', 'soon'], /--max-age soon is not a duration\.\n\s+hint: Write a number with a unit/],
      ];
      for (const [args, message] of cases) {
        const result = await run(process.execPath, [BIN, 'cache-server', 'prune', ...args]);
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toMatch(message);
      }
    });
  });
});
