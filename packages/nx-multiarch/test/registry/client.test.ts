import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../src/oci/canonical-json';
import { DigestMismatchError, sha256Digest } from '../../src/oci/digest';
import { ImageIndex, ImageManifest, MediaTypes } from '../../src/oci/types';
import { RegistryClient } from '../../src/registry/client';
import { RegistryError } from '../../src/registry/errors';
import { RegistryServer, startRegistry } from '../support/registry-server';
import { startRecordingProxy } from '../support/recording-proxy';

/** The client against a real distribution 2.8 registry on loopback, anonymous over http. */
describe('RegistryClient against docker-registry', () => {
  let registry: RegistryServer;
  let work: string;
  const clients: RegistryClient[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) => {
    const c = new RegistryClient({ registry: registry.host, access: 'push', auth: 'anonymous', ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'nxm-client-'));
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('uploads a blob once, skips it the second time, and reads it back verified', async () => {
    const c = client();
    const data = randomBytes(300_000);
    const digest = sha256Digest(data);
    expect(await c.hasBlob('t/blobs', digest)).toBe(false);
    expect(await c.pushBlob('t/blobs', data, digest)).toEqual({ outcome: 'uploaded', bytes: data.length });
    expect(await c.hasBlob('t/blobs', digest)).toBe(true);
    const before = c.stats.bytesSent;
    expect(await c.pushBlob('t/blobs', data, digest)).toEqual({ outcome: 'skipped', bytes: 0 });
    expect(c.stats.bytesSent).toBe(before);
    expect((await c.getBlob('t/blobs', digest)).equals(data)).toBe(true);
  });

  it('streams a blob from a file, and in chunks when it is over the monolithic limit', async () => {
    const data = randomBytes(1_000_003);
    const path = join(work, 'blob.bin');
    await writeFile(path, data);
    const digest = sha256Digest(data);
    const chunked = client({ monolithicMaxBytes: 100_000, chunkBytes: 250_000 });
    const requestsBefore = chunked.stats.requests;
    expect(await chunked.pushBlob('t/chunked', { path }, digest)).toEqual({ outcome: 'uploaded', bytes: data.length });
    // HEAD, POST, 5 PATCHes of at most 250 000 bytes, closing PUT.
    expect(chunked.stats.requests - requestsBefore).toBe(8);
    expect((await chunked.getBlob('t/chunked', digest)).equals(data)).toBe(true);
    const whole = client();
    const before = whole.stats.requests;
    expect(await whole.pushBlob('t/file', { path }, digest)).toEqual({ outcome: 'uploaded', bytes: data.length });
    // A file under the chunk size: HEAD, POST, one PATCH with the whole file, then the committing PUT.
    expect(whole.stats.requests - before).toBe(4);
    expect((await client().getBlob('t/file', digest)).equals(data)).toBe(true);
  });

  it('hashes a file while sending it, and cancels the upload before the commit when it does not match', async () => {
    const data = randomBytes(700_000);
    const digest = sha256Digest(data);
    const path = join(work, 'changed.bin');
    // The blob on disk no longer holds the bytes its digest was taken of (same size, one byte off).
    data[350_000] ^= 0xff;
    await writeFile(path, data);
    const proxy = await startRecordingProxy(Number(registry.host.split(':')[1]));
    try {
      const c = client({ registry: proxy.host });
      await expect(c.pushBlob('t/mismatch', { path }, digest)).rejects.toThrow(DigestMismatchError);
      await expect(c.pushBlob('t/mismatch', { path }, digest)).rejects.toThrow(`Blob ${digest} (${path}) does not match its digest`);
      const sent = proxy.requests.map((r) => `${r.method} ${r.path.split('?')[0].replace(/uploads\/[^/]+$/, 'uploads/<id>')}${r.path.includes('digest=') ? ' +digest' : ''}`);
      // Every byte went up in a PATCH, but no request ever asked the registry to commit (no ?digest=), and the session was dropped.
      expect(sent.filter((line) => line.endsWith('+digest'))).toEqual([]);
      expect(sent).toContain('PATCH /v2/t/mismatch/blobs/uploads/<id>');
      expect(sent).toContain('DELETE /v2/t/mismatch/blobs/uploads/<id>');
      expect(await c.hasBlob('t/mismatch', digest)).toBe(false);
    } finally {
      await proxy.stop();
    }
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const c = client();
    const data = randomBytes(50_000);
    const digest = sha256Digest(data);
    await c.pushBlob('t/source', data, digest);
    const sent = c.stats.bytesSent;
    expect(await c.pushBlob('t/target', data, digest, { mountFrom: 't/source' })).toEqual({ outcome: 'mounted', bytes: 0 });
    expect(c.stats.bytesSent).toBe(sent);
    expect(await c.hasBlob('t/target', digest)).toBe(true);
    // A source that lacks the blob: the registry opens an ordinary upload and the bytes go up.
    const other = randomBytes(1000);
    expect(await c.pushBlob('t/target', other, sha256Digest(other), { mountFrom: 't/source' })).toEqual({ outcome: 'uploaded', bytes: 1000 });
  });

  it('pushes manifests and an index with Content-Type equal to their mediaType, and reads them back', async () => {
    const c = client();
    const config = Buffer.from(canonicalJson({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    await c.pushBlob('t/img', config, sha256Digest(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: sha256Digest(config), size: config.length },
      layers: [],
    };
    const manifestBytes = Buffer.from(canonicalJson(manifest));
    const manifestDigest = await c.putManifest('t/img', sha256Digest(manifestBytes), manifestBytes, MediaTypes.ociManifest);
    expect(manifestDigest).toBe(sha256Digest(manifestBytes));
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [{ mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length, platform: { os: 'linux', architecture: 'arm64' } }],
    };
    const indexBytes = Buffer.from(canonicalJson(index));
    await c.putManifest('t/img', '1.0.0', indexBytes, MediaTypes.ociIndex);
    const got = await c.getManifest('t/img', '1.0.0');
    expect(got).toEqual({ mediaType: MediaTypes.ociIndex, digest: sha256Digest(indexBytes), body: indexBytes });
    expect(await c.hasManifest('t/img', '1.0.0')).toBe(sha256Digest(indexBytes));
    expect(await c.hasManifest('t/img', 'nope')).toBeUndefined();
    expect(await c.listTags('t/img')).toEqual(['1.0.0']);
    expect(await c.listTags('t/never-pushed')).toEqual([]);
    // The mediaType check happens before anything is sent.
    await expect(c.putManifest('t/img', 'x', indexBytes, MediaTypes.dockerManifestList)).rejects.toThrow(/says mediaType/);
  });

  it('reports a missing manifest as a 404 RegistryError naming it', async () => {
    const error = await client().getManifest('t/img', 'missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(404);
    expect((error as Error).message).toMatch(/t\/img:missing/);
  });

  it('says clearly when nothing listens at the address', async () => {
    const c = client({ registry: '127.0.0.1:1', retry: { maxAttempts: 1 } });
    await expect(c.ping()).rejects.toThrow(/connection refused/);
  });
});
