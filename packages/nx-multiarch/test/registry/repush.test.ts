import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../../src/errors';
import { ImageManifest } from '../../src/oci/types';
import { blobPath } from '../../src/oci/layout';
import { publishProject, PublishResult } from '../../src/publish/publish-project';
import type { ManifestPushOptions } from '../../src/publish/options';
import { RegistryClient } from '../../src/registry/client';
import { AccessLogEntry, readAccessLog, RegistryServer, startRegistry } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';
import { loadArchImage } from '../../src/publish/load-images';
import { lockForWrite } from '../../src/util/output-lock';
import { outputDir } from '../../src/outputs/paths';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { goTool } from '../supply-chain/cosign-tools';

/**
 * Re-pushes ask before they write, and a damaged local blob stops a push
 * before its first request. Counted with Debian's docker-registry's own
 * access log, not with the client's idea of what it sent.
 */
describe('manifest-push writes only what differs, and only sound blobs', () => {
  let registry: RegistryServer;
  let workspace: string;
  let reader: RegistryClient;
  const ARCHES = ['amd64', 'arm64', 'arm'] as const;
  const WRITES = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

  const push = (project: string, options: ManifestPushOptions): Promise<PublishResult> =>
    publishProject({ options: { registry: registry.host, ...options }, project: { workspaceRoot: workspace, name: project, root: `packages/${project}` }, log: () => undefined });

  /** An HTTP proxy to the registry; `intercept` answers a request itself by returning true. */
  const interceptingProxy = async (intercept: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<http.Server> => {
    const proxy = http.createServer((req, res) => {
      if (intercept(req, res)) return;
      const upstream = http.request({ host: '127.0.0.1', port: registry.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return proxy;
  };

  /** The registry's log lines written while `action` ran. */
  const requestsDuring = async (action: () => Promise<unknown>): Promise<AccessLogEntry[]> => {
    const before = (await readAccessLog(registry)).length;
    await action();
    // The registry writes its access log line after the response: wait until the log stops growing
    // (a loaded machine can take longer than a moment), at most 3 s.
    let seen = -1;
    for (let waited = 0; waited < 3000; waited += 300) {
      await new Promise((r) => setTimeout(r, 300));
      const now = (await readAccessLog(registry)).length;
      if (now === seen) break;
      seen = now;
    }
    return (await readAccessLog(registry)).slice(before);
  };

  beforeAll(async () => {
    registry = await startRegistry({ accessLog: true });
    workspace = await mkdtemp(join(tmpdir(), 'nxm-repush-ws-'));
    for (const project of ['api', 'worker', 'broken', 'signlater']) {
      await mkdir(join(workspace, 'packages', project), { recursive: true });
      await writeTestImages(workspace, project, ARCHES, { seed: project });
    }
    reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
  });
  afterAll(async () => {
    reader?.close();
    await registry?.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  it('a re-push of unchanged images PUTs nothing: the registry log shows only reads', async () => {
    const first = await push('api', { tags: 'v1,latest', perArchTags: true });
    // 3 children + 6 <tag>-<arch> tags + 2 index tags.
    expect(first.report).toMatchObject({ manifestsPushed: 11, manifestsUnchanged: 0 });

    let again: PublishResult | undefined;
    const log = await requestsDuring(async () => (again = await push('api', { tags: 'v1,latest', perArchTags: true })));
    expect(log.filter((e) => WRITES.has(e.method))).toEqual([]);
    // Every tag read once (2 index tags, then 6 <tag>-<arch> tags), and no blob or child asked for:
    // the index the registry serves implies them.
    expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'GET /v2/api/manifests/v1 200',
      'GET /v2/api/manifests/latest 200',
      ...ARCHES.flatMap((arch) => ['v1', 'latest'].map((tag) => `GET /v2/api/manifests/${tag}-${arch} 200`)),
    ]);
    expect(again?.report).toMatchObject({ manifestsPushed: 0, manifestsUnchanged: 11, bytesSent: 0, requests: 8, indexDigest: first.report?.indexDigest });
    expect(again?.report?.blobs).toMatchObject({ uploaded: 0, mounted: 0, skipped: first.plan.blobs.length });
    expect((await reader.getManifest('api', 'latest')).digest).toBe(first.report?.indexDigest);
  });

  it('a re-push of one tag that already serves the same index stops after one request', async () => {
    const first = await push('api', { tags: 'solo' });
    let again: PublishResult | undefined;
    const log = await requestsDuring(async () => (again = await push('api', { tags: 'solo' })));
    expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(['GET /v2/api/manifests/solo 200']);
    expect(again?.report).toMatchObject({ requests: 1, manifestsPushed: 0, bytesSent: 0, indexDigest: first.report?.indexDigest });
  });

  it('a tag that serves other images is pushed in full: one GET decides, then the usual asks and writes', async () => {
    await push('worker', { tags: 'moving' });
    const log = await requestsDuring(() => push('api', { tags: 'moving' }));
    expect(log[0]).toEqual({ method: 'GET', path: '/v2/api/manifests/moving', status: 404 });
    // worker's index is under worker/, so api:moving is new: every blob and child is asked for, then written.
    expect(log.filter((e) => e.method === 'HEAD' && e.path.includes('/blobs/')).length).toBeGreaterThan(0);
    expect(log.filter((e) => e.method === 'PUT').map((e) => e.path)).toContain('/v2/api/manifests/moving');
    // The same repository and tag, moved from api's images to worker's: written, not taken as published.
    const moved = await push('worker', { tags: 'moving', repository: 'api' });
    expect(moved.report?.manifestsPushed).toBeGreaterThan(0);
    expect((await reader.getManifest('api', 'moving')).digest).toBe(moved.report?.indexDigest);
  });

  it('a new tag on the same images PUTs that one index tag and nothing else', async () => {
    await push('worker', { tags: 'v1' });
    const log = await requestsDuring(() => push('worker', { tags: 'v1,v2' }));
    expect(log.filter((e) => WRITES.has(e.method)).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(['PUT /v2/worker/manifests/v2 201']);
    const v1 = await reader.getManifest('worker', 'v1');
    expect((await reader.getManifest('worker', 'v2')).digest).toBe(v1.digest);
  });

  it('signing added to a published image: the push stops after one request, the signatures still go up (the index does not imply them)', async () => {
    const keyDir = await mkdtemp(join(tmpdir(), 'nxm-repush-key-'));
    const env = { ...process.env, COSIGN_PASSWORD: 'repush' };
    try {
      await promisify(execFile)(goTool('cosign'), ['generate-key-pair', '--output-key-prefix', join(keyDir, 'cosign')], { env, timeout: 60_000 });
      const signed = (): Promise<PublishResult> =>
        publishProject({ options: { registry: registry.host, tags: 'v1', signingKey: join(keyDir, 'cosign.key') }, project: { workspaceRoot: workspace, name: 'signlater', root: 'packages/signlater' }, env, log: () => undefined });
      const unsigned = await push('signlater', { tags: 'v1' });
      expect(unsigned.signing).toBeUndefined();

      const first = await signed();
      expect(first.report).toMatchObject({ requests: 1, manifestsPushed: 0, indexDigest: unsigned.report?.indexDigest });
      // The index and each of the 3 arch manifests: signed now, though the push itself sent nothing.
      expect(first.signing).toMatchObject({ signaturesPushed: 4, alreadySigned: 0 });
      const sigTag = `sha256-${unsigned.report?.indexDigest.slice(7)}.sig`;
      expect((await reader.listTags('signlater')).filter((t) => t.endsWith('.sig'))).toContain(sigTag);

      let again: PublishResult | undefined;
      const log = await requestsDuring(async () => (again = await signed()));
      expect(log.filter((e) => WRITES.has(e.method))).toEqual([]);
      expect(again?.report?.requests).toBe(1);
      expect(again?.signing).toMatchObject({ signaturesPushed: 0, alreadySigned: 4 });
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a layer damaged in place (same size) stops the push before any request, naming the file and the rebuild', async () => {
    const arm64 = await loadArchImage(workspace, 'broken', 'arm64');
    const layer = (JSON.parse(arm64.manifestBody.toString('utf8')) as ImageManifest).layers.at(-1)!;
    const file = blobPath(arm64.layoutDir, layer.digest);
    const handle = await open(file, 'r+');
    try {
      // Flip one byte in the middle: the size stays, the hash does not.
      const middle = Math.floor(layer.size / 2);
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, middle);
      byte[0] ^= 0xff;
      await handle.write(byte, 0, 1, middle);
    } finally {
      await handle.close();
    }

    let error: unknown;
    const log = await requestsDuring(() => push('broken', { tags: 'v1' }).catch((e: unknown) => (error = e)));
    expect(error).toBeInstanceOf(MultiarchError);
    const { message, hint } = error as MultiarchError;
    expect(message).toContain(`dist/images/broken/arm64/blobs/sha256/${layer.digest.slice(7)}`);
    expect(message).toMatch(/damaged; nothing was sent to the registry/);
    expect(message).toContain(`not ${layer.digest} (${layer.size} bytes)`);
    expect(hint).toBe('Rebuild the image: nx run broken:docker-arch-build --arch=arm64 --skip-nx-cache.');
    // Not one request reached the registry, so not one blob of any arch is there.
    expect(log.filter((e) => e.path.startsWith('/v2/broken/'))).toEqual([]);
    expect(await reader.listTags('broken')).toEqual([]);
  });

  it('an index PUT refused with MANIFEST_BLOB_UNKNOWN is tried once more after the children are confirmed', async () => {
    // An HTTP proxy that refuses the first index PUT as a registry does that does not see a child yet.
    let refused = 0;
    const proxy = await interceptingProxy((req, res) => {
      if (req.method !== 'PUT' || req.url !== '/v2/worker/manifests/v3' || refused > 0) return false;
      refused += 1;
      req.resume();
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
      return true;
    });
    const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const lines: string[] = [];
      const result = await publishProject({
        options: { registry: host, tags: 'v3' },
        project: { workspaceRoot: workspace, name: 'worker', root: 'packages/worker' },
        log: (line) => lines.push(line),
      });
      expect(refused).toBe(1);
      expect(lines.join('\n')).toMatch(/does not see every child of the index yet; confirming them/);
      expect(result.report?.verified).toBe(true);
      expect((await reader.getManifest('worker', 'v3')).digest).toBe(result.report?.indexDigest);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a push waits while a build of the same project swaps an image folder in, then pushes', async () => {
    const swap = await lockForWrite(outputDir(workspace, 'images', 'api', 'arm64'));
    const lines: string[] = [];
    let finished = false;
    const pushing = publishProject({
      options: { registry: registry.host, tags: 'locked' },
      project: { workspaceRoot: workspace, name: 'api', root: 'packages/api' },
      log: (line) => lines.push(line),
    }).then((r) => {
      finished = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(finished).toBe(false);
    expect(lines).toEqual([`Waiting for dist/images/api/arm64 (writer pid ${process.pid}) ...`]);
    await swap.release();
    expect((await pushing).report?.verified).toBe(true);
  });

  it('a registry that cannot answer a manifest HEAD (405) is written to as before', async () => {
    let refusedHeads = 0;
    const proxy = await interceptingProxy((req, res) => {
      if (req.method !== 'HEAD' || !req.url?.includes('/manifests/')) return false;
      refusedHeads += 1;
      res.writeHead(405, { 'Content-Length': '0' });
      res.end();
      return true;
    });
    const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const result = await publishProject({
        options: { registry: host, tags: 'nohead', verify: false },
        project: { workspaceRoot: workspace, name: 'worker', root: 'packages/worker' },
        log: () => undefined,
      });
      expect(refusedHeads).toBe(4);
      expect(result.report).toMatchObject({ manifestsPushed: 4, manifestsUnchanged: 0 });
      expect((await reader.getManifest('worker', 'nohead')).digest).toBe(result.report?.indexDigest);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});
