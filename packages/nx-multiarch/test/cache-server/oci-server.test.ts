import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_ARTIFACT_TYPE, CACHE_ENTRY_MEDIA_TYPE, REFUSED_ARTIFACT_TYPE } from '../../src/cache-server/oci-entry';
import { OciStorage } from '../../src/cache-server/oci-storage';
import type { Logger } from '../../src/cache-server/logger';
import { closeServer, createCacheServer, listen } from '../../src/cache-server/server';
import { TokenSet } from '../../src/cache-server/tokens';
import { sha256Digest } from '../../src/oci/digest';
import { MediaTypes, type ImageManifest } from '../../src/oci/types';
import { RegistryClient } from '../../src/registry/client';
import { cacheRequest, entryPath } from '../support/cache-http';
import { startRegistry, type RegistryServer } from '../support/registry-server';

/** The server with entries in a real docker-registry (distribution 2.8) on loopback. */
const RW = `rw-${randomBytes(16).toString('hex')}`;
const RO = `ro-${randomBytes(16).toString('hex')}`;
const REPOSITORY = 'ci/nx-cache';

describe('cache server with OCI storage', () => {
  let registry: RegistryServer;
  let temp: string;
  let storage: OciStorage;
  let url: string;
  let stop: () => Promise<void>;
  let reader: RegistryClient;
  const lines: string[] = [];
  const logger: Logger = { info: (m) => lines.push(`info ${m}`), error: (m) => lines.push(`error ${m}`) };

  beforeAll(async () => {
    registry = await startRegistry();
    temp = await mkdtemp(join(tmpdir(), 'nxm-cache-oci-'));
    storage = await OciStorage.create({ registry: registry.host, repository: REPOSITORY, tempDir: temp });
    const server = createCacheServer({ storage, tokens: TokenSet.fromTokens([RW], [RO]), maxEntryBytes: 64 * 1024 * 1024, logger });
    const address = await listen(server, '127.0.0.1', 0);
    url = `http://127.0.0.1:${address.port}`;
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

  const put = (hash: string, body: Buffer, token = RW) => cacheRequest(url, entryPath(hash), { method: 'PUT', token, body });
  const get = (hash: string, token = RO) => cacheRequest(url, entryPath(hash), { token });
  const manifestOf = async (hash: string) => JSON.parse((await reader.getManifest(REPOSITORY, hash)).body.toString('utf8')) as ImageManifest;
  /** Where distribution's filesystem driver keeps a blob's bytes. */
  const blobFile = (digest: string) => {
    const hex = digest.slice('sha256:'.length);
    return join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  };

  it('answers /health when the registry answers', async () => {
    const res = await cacheRequest(url, '/health');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok', storage: `oci://${registry.host}/${REPOSITORY}` });
  });

  it('stores an entry as an OCI artifact tagged by the hash, and serves it back', async () => {
    const entry = randomBytes(3 * 1024 * 1024);
    expect((await get('2001')).status).toBe(404);
    expect((await put('2001', entry)).status).toBe(200);

    const manifest = await manifestOf('2001');
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType: CACHE_ARTIFACT_TYPE,
      config: { mediaType: MediaTypes.ociEmpty, size: 2 },
      layers: [{ mediaType: CACHE_ENTRY_MEDIA_TYPE, digest: sha256Digest(entry), size: entry.length }],
    });
    expect((await reader.getBlob(REPOSITORY, sha256Digest(entry))).equals(entry)).toBe(true);

    const hit = await get('2001');
    expect(hit.status).toBe(200);
    expect(hit.body.equals(entry)).toBe(true);
    // Nothing staged stays behind once the entry went out.
    const [staging] = await readdir(temp);
    expect(await readdir(join(temp, staging, 'uploads'))).toEqual([]);
    expect(await readdir(join(temp, staging, 'downloads'))).toEqual([]);
  });

  it('answers 409 to a hash that exists and keeps the first entry', async () => {
    const first = randomBytes(1000);
    expect((await put('2002', first)).status).toBe(200);
    expect((await put('2002', randomBytes(1000))).status).toBe(409);
    expect((await get('2002')).body.equals(first)).toBe(true);
  });

  it('refuses writes with a read-only token', async () => {
    expect((await put('2003', randomBytes(1000), RO)).status).toBe(403);
    expect((await get('2003')).status).toBe(404);
    expect(await reader.hasManifest(REPOSITORY, '2003')).toBeUndefined();
  });

  it('refuses an entry whose blob was damaged in the registry, marks the tag refused, and takes a fresh upload', async () => {
    const entry = randomBytes(100_000);
    expect((await put('2004', entry)).status).toBe(200);
    const damaged = Buffer.from(entry);
    damaged[99] ^= 0xff;
    await writeFile(blobFile(sha256Digest(entry)), damaged);

    const refused = await get('2004');
    expect(refused.status).toBe(500);
    expect(refused.body.length).toBeLessThan(200);
    expect(lines.some((l) => l.startsWith('error') && l.includes('Cache entry 2004 is corrupted'))).toBe(true);
    const marker = await manifestOf('2004');
    expect(marker.artifactType).toBe(REFUSED_ARTIFACT_TYPE);

    expect((await get('2004')).status).toBe(404);
    const fresh = randomBytes(100_000);
    expect((await put('2004', fresh)).status).toBe(200);
    expect((await get('2004')).body.equals(fresh)).toBe(true);
  });

  it('reports the registry gone on /health (503)', async () => {
    const own = await startRegistry();
    const lonely = await OciStorage.create({ registry: own.host, repository: REPOSITORY, tempDir: temp });
    const server = createCacheServer({ storage: lonely, tokens: TokenSet.fromTokens([RW], []), maxEntryBytes: 1024, logger });
    const { port } = await listen(server, '127.0.0.1', 0);
    try {
      expect((await cacheRequest(`http://127.0.0.1:${port}`, '/health')).status).toBe(200);
      await own.stop();
      const res = await cacheRequest(`http://127.0.0.1:${port}`, '/health');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body.toString()).status).toBe('unavailable');
    } finally {
      await closeServer(server);
      await lonely.close();
    }
  });
});
