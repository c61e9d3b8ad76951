import { createHash, randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CacheKey } from '../../src/cache-server/cache-key';
import { DEFAULT_LIMITS } from '../../src/cache-server/admission';
import { startCacheServer } from '../../src/cache-server/cli';
import { OciStorage } from '../../src/cache-server/oci-storage';
import { runPruneCommand } from '../../src/cache-server/prune-command';
import { closeServer, createCacheServer, listen } from '../../src/cache-server/server';
import { TokenSet } from '../../src/cache-server/tokens';
import { sha256Digest } from '../../src/oci/digest';
import { RegistryClient } from '../../src/registry/client';
import { run } from '../../src/util/exec';
import { cacheRequest, entryPath } from '../support/cache-http';
import { startRegistry, type RegistryServer } from '../support/registry-server';

/**
 * Retention of the oci:// store against a real docker-registry (distribution
 * 2.8) with deletes allowed: filled past its limit, the least recently used
 * entries are deleted (by manifest digest) and the rest are still served; an
 * entry being read is never removed; a registry without deletes gets an error
 * naming the setting. Ages come from the created time the server writes into
 * each manifest (its clock is set here) and from the server's own reads.
 */
const RW = `rw-${randomBytes(16).toString('hex')}`;
const RO = `ro-${randomBytes(16).toString('hex')}`;
const REPOSITORY = 'ci/nx-cache';
const KIB = 1024;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('cache retention (oci store)', () => {
  let registry: RegistryServer;
  let temp: string;
  let storage: OciStorage;
  let url: string;
  let stop: () => Promise<void>;
  let reader: RegistryClient;
  let clock = T0;
  const bodies = new Map<string, Buffer>();
  const digests = new Map<string, string>();

  const key = (i: number) => createHash('sha256').update(`oci-retention-${i}`).digest('hex').slice(0, 32);
  /** Where distribution's filesystem driver keeps a blob's bytes. */
  const blobFile = (digest: string) => {
    const hex = digest.slice('sha256:'.length);
    return join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  };
  const get = (k: string) => cacheRequest(url, entryPath(k), { token: RO });
  const put = (k: string, body: Buffer) => cacheRequest(url, entryPath(k), { method: 'PUT', token: RW, body });
  /** What `nx-multiarch cache-server prune …` prints and returns, run in this process. */
  const pruneCommand = async (args: string[]) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const exitCode = await runPruneCommand(args, { stdout, stderr, cwd: temp });
    return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  };

  beforeAll(async () => {
    registry = await startRegistry({ deleteEnabled: true });
    temp = await mkdtemp(join(tmpdir(), 'nxm-cache-oci-retention-'));
    storage = await OciStorage.create({ registry: registry.host, repository: REPOSITORY, tempDir: temp, now: () => clock });
    const server = createCacheServer({ storage, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: 16 * 1024 * KIB, logger: { info: () => undefined, error: () => undefined } });
    url = `http://127.0.0.1:${(await listen(server, '127.0.0.1', 0)).port}`;
    stop = async () => {
      await closeServer(server);
      await storage.close();
    };
    reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
  });
  afterAll(async () => {
    reader?.close();
    await stop?.();
    await registry?.stop();
    await rm(temp, { recursive: true, force: true });
  });

  it('filled past its size limit, deletes the least recently used entries and keeps serving the rest', async () => {
    // Six entries of 100 KiB, entry i stored i hours before T0; the oldest (5) then read at T0.
    for (let i = 0; i < 6; i++) {
      clock = T0 - i * HOUR;
      const body = randomBytes(100 * KIB);
      bodies.set(key(i), body);
      expect((await put(key(i), body)).status).toBe(200);
      digests.set(key(i), (await reader.hasManifest(REPOSITORY, key(i)))!);
    }
    clock = T0;
    expect((await get(key(5))).status).toBe(200);

    const dry = await storage.prune({ maxTotalBytes: 350 * KIB }, { dryRun: true });
    expect(dry.removed.sort()).toEqual([2, 3, 4].map(key).sort());
    // Asked of the registry: a read through the server would count as a use.
    expect(await reader.hasManifest(REPOSITORY, key(4))).toBe(digests.get(key(4)));

    const result = await storage.prune({ maxTotalBytes: 350 * KIB });
    // Least recently used first: 4, 3, 2 go; 1, 0 and 5 (just read) fit in 350 KiB.
    expect(result.examined).toBe(6);
    expect(result.removed.sort()).toEqual([2, 3, 4].map(key).sort());
    expect(result.skippedInUse).toEqual([]);
    // Sizes count the blob and the manifest (a few hundred bytes each).
    expect(result.freedBytes).toBeGreaterThan(300 * KIB);
    expect(result.freedBytes).toBeLessThan(300 * KIB + 3 * 2 * KIB);
    expect(result.keptBytes).toBeGreaterThan(300 * KIB);
    expect(result.keptBytes).toBeLessThanOrEqual(350 * KIB);

    for (const i of [0, 1, 5]) {
      const got = await get(key(i));
      expect(got.status).toBe(200);
      expect(got.body.equals(bodies.get(key(i))!)).toBe(true);
    }
    for (const i of [2, 3, 4]) {
      expect((await get(key(i))).status).toBe(404);
      // Gone from the registry itself: the tag and the manifest by its digest.
      expect(await reader.hasManifest(REPOSITORY, key(i))).toBeUndefined();
      expect(await reader.hasManifest(REPOSITORY, digests.get(key(i))!)).toBeUndefined();
    }
    // A removed hash can be stored again by the next trusted build.
    expect((await put(key(2), bodies.get(key(2))!)).status).toBe(200);
    expect((await get(key(2))).body.equals(bodies.get(key(2))!)).toBe(true);
  });

  it('goes by the last use this server saw, else by the time the entry was stored', async () => {
    // Both stored 3 h before T0; entry 9 then read half an hour before T0. (0, 1, 2 and 5 were used at T0.)
    clock = T0 - 3 * HOUR;
    for (const i of [8, 9]) {
      bodies.set(key(i), randomBytes(KIB));
      expect((await put(key(i), bodies.get(key(i))!)).status).toBe(200);
    }
    clock = T0 - 30 * 60_000;
    expect((await get(key(9))).status).toBe(200);
    clock = T0;
    // At T0+20min with a 1 h limit: 8 is too old, 9 (read 50 min ago) stays.
    const result = await storage.prune({ maxAgeMs: HOUR }, { now: T0 + 20 * 60_000 });
    expect(result.removed).toEqual([key(8)]);
    expect(await reader.hasManifest(REPOSITORY, key(8))).toBeUndefined();
    expect(await reader.hasManifest(REPOSITORY, key(9))).toBeDefined();
  });

  it('never removes an entry being read; the read completes whole, and the next prune takes it', async () => {
    const k = key(0);
    const reading = await storage.open(k as CacheKey);
    expect(reading).toBeDefined();
    const during = await storage.prune({ maxTotalBytes: 1 });
    expect(during.skippedInUse).toEqual([k]);
    expect(during.removed.sort()).toEqual([1, 2, 5, 9].map(key).sort());
    const chunks: Buffer[] = [];
    for await (const chunk of reading!.stream()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bodies.get(k)!)).toBe(true);
    const after = await storage.prune({ maxTotalBytes: 1 });
    expect(after.removed).toEqual([k]);
    expect((await get(k)).status).toBe(404);
  });

  it('the prune command prunes an oci:// store, with --dry-run saying what would go', async () => {
    for (const i of [6, 7]) {
      bodies.set(key(i), randomBytes(10 * KIB));
      expect((await put(key(i), bodies.get(key(i))!)).status).toBe(200);
    }
    const storageArg = `oci://${registry.host}/${REPOSITORY}`;
    const dry = await pruneCommand(['--storage', storageArg, '--max-size', '15KiB', '--dry-run']);
    expect(dry).toMatchObject({ exitCode: 0, stderr: '' });
    expect(dry.stdout).toMatch(/^prune: would remove 1 of 2 entries/);
    expect((await get(key(6))).status).toBe(200);
    const real = await pruneCommand(['--storage', storageArg, '--max-size', '1']);
    expect(real).toMatchObject({ exitCode: 0, stderr: '' });
    expect(real.stdout).toMatch(/^prune: removed 2 of 2 entries/);
    for (const i of [6, 7]) expect((await get(key(i))).status).toBe(404);
  });

  it("leaves the blobs to the registry's garbage collection, which frees those of deleted entries only", async () => {
    const survivor = randomBytes(4 * KIB);
    expect((await put(key(10), survivor)).status).toBe(200);
    const deleted = sha256Digest(bodies.get(key(6))!);
    expect(await access(blobFile(deleted)).then(() => true, () => false)).toBe(true);
    const gc = await run('docker-registry', ['garbage-collect', join(registry.dir, 'config.yml')]);
    expect(gc.exitCode).toBe(0);
    expect(await access(blobFile(deleted)).then(() => true, () => false)).toBe(false);
    expect(await access(blobFile(sha256Digest(survivor))).then(() => true, () => false)).toBe(true);
    const got = await get(key(10));
    expect(got.status).toBe(200);
    expect(got.body.equals(survivor)).toBe(true);
  });

  it('the server applies --max-size to an oci:// store itself at start, and says so in its log', async () => {
    const lines: string[] = [];
    const running = await startCacheServer(
      {
        storage: { kind: 'oci', registry: registry.host, repository: REPOSITORY },
        host: '127.0.0.1',
        port: 0,
        tokens: { readWriteEnv: 'TEST_RW' },
        maxEntryBytes: KIB,
        insecureRegistry: false,
        limits: DEFAULT_LIMITS,
        retention: { maxTotalBytes: 1 },
      },
      { env: { TEST_RW: RW }, logger: { info: (m) => lines.push(m), error: (m) => lines.push(`error ${m}`) } },
    );
    try {
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => l.startsWith('prune:')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(lines.find((l) => l.startsWith('prune:'))).toMatch(/^prune: removed 1 of 1 entries \(\d+ bytes\), 0 bytes kept$/);
    } finally {
      await running.close();
    }
    expect((await get(key(10))).status).toBe(404);
  });

  it('on a registry that refuses deletes, fails with the setting to turn on and leaves the entry', async () => {
    const strict = await startRegistry();
    const own = await OciStorage.create({ registry: strict.host, repository: REPOSITORY, tempDir: temp });
    const server = createCacheServer({ storage: own, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: 1024 * KIB, logger: { info: () => undefined, error: () => undefined } });
    const strictUrl = `http://127.0.0.1:${(await listen(server, '127.0.0.1', 0)).port}`;
    try {
      const body = randomBytes(KIB);
      expect((await cacheRequest(strictUrl, entryPath('kept-entry'), { method: 'PUT', token: RW, body })).status).toBe(200);
      const failure = await own.prune({ maxTotalBytes: 1 }).then(
        () => undefined,
        (error: unknown) => error as { message: string; hint?: string },
      );
      expect(failure?.message).toMatch(/deleting manifest ci\/nx-cache@sha256:[0-9a-f]{64}: 127\.0\.0\.1:\d+ answered 405/);
      expect(failure?.hint).toContain('storage: delete: enabled: true');
      const command = await pruneCommand(['--storage', `oci://${strict.host}/${REPOSITORY}`, '--max-size', '1']);
      expect(command.exitCode).toBe(1);
      expect(command.stderr).toMatch(/answered 405[^]*hint: .*storage: delete: enabled: true/);
      const still = await cacheRequest(strictUrl, entryPath('kept-entry'), { token: RO });
      expect(still.status).toBe(200);
      expect(still.body.equals(body)).toBe(true);
    } finally {
      await closeServer(server);
      await own.close();
      await strict.stop();
    }
  });
});
