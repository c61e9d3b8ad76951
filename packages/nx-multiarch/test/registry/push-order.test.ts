import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArchImages } from '../../src/publish/load-images';
import { planPush, PushPlan } from '../../src/publish/plan';
import { publishProject } from '../../src/publish/publish-project';
import { RegistryClient } from '../../src/registry/client';
import { startPermissiveRegistry, type PermissiveRegistry } from '../support/permissive-registry';
import { pushOrderViolations, writeSequence } from '../support/push-order';
import { startRecordingProxy, type RecordedRequest } from '../support/recording-proxy';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';

/**
 * The push order, seen on the wire: a recording proxy between manifest-push
 * and the registry records every request, and the sequence must be every
 * blob before the manifest naming it, every manifest before the index, and
 * the index tag writes last.
 *
 * Against Debian's registry (distribution 2.8) a wrong order would fail
 * loudly, since it refuses a manifest whose blobs or children are missing;
 * so the same push also goes to an in-test registry that ACCEPTS OUT-OF-ORDER
 * WRITES (test/support/permissive-registry.ts), where only the plugin's own
 * ordering keeps the tag from naming a missing child. The negative controls
 * push the same plan index first and expect the check to catch it.
 */
let workspace: string;
let debian: RegistryServer;
let permissive: PermissiveRegistry;
const project = () => ({ workspaceRoot: workspace, name: 'app', root: 'packages/app' });

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'nxm-push-order-'));
  await writeTestImages(workspace, 'app', ['amd64', 'arm64', 'arm'], { appLayerBytes: 200_000, baseLayerBytes: 100_000 });
  [debian, permissive] = await Promise.all([startRegistry(), startPermissiveRegistry()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([debian?.stop(), permissive?.stop()]);
  await rm(workspace, { recursive: true, force: true });
});

/** manifest-push of the test images through a recording proxy; returns what the proxy saw. */
async function recordedPush(upstreamPort: number, repository: string, extra: Record<string, unknown> = {}): Promise<RecordedRequest[]> {
  const proxy = await startRecordingProxy(upstreamPort);
  try {
    const { report } = await publishProject({
      options: { registry: proxy.host, repository, tags: 'v1,latest', ...extra },
      project: project(),
      env: {},
      log: () => undefined,
      client: { auth: 'anonymous', maxSockets: 4 },
    });
    expect(report?.verified).toBe(true);
    return proxy.requests;
  } finally {
    await proxy.stop();
  }
}

/** The expected shape: blob writes, then 3 manifests by digest, then per-arch tags (if any), then the two index tags. */
function expectCanonicalSequence(requests: RecordedRequest[], perArchTags: boolean): void {
  const sequence = writeSequence(requests);
  const firstManifest = sequence.findIndex((s) => s.startsWith('manifest') || s.startsWith('index'));
  expect(firstManifest).toBeGreaterThan(0);
  expect(sequence.slice(0, firstManifest).every((s) => s.startsWith('blob'))).toBe(true);
  const tail = sequence.slice(firstManifest);
  const perArch = perArchTags ? ['amd64', 'arm64', 'arm'].flatMap((arch) => [`manifest tag v1-${arch}`, `manifest tag latest-${arch}`]) : [];
  expect(tail).toEqual([...Array(3).fill('manifest by digest'), ...perArch, 'index tag v1', 'index tag latest']);
}

describe('push order seen by a recording proxy', () => {
  it('against distribution 2.8: blobs, then manifests, then the index tags last', async () => {
    const requests = await recordedPush(debian.port, 'order/app');
    expect(pushOrderViolations(requests)).toEqual([]);
    expectCanonicalSequence(requests, false);
  }, 60_000);

  it('against a registry that accepts out-of-order writes: the same order, with per-arch tags before the index tags', async () => {
    const requests = await recordedPush(permissive.port, 'order/app', { perArchTags: true });
    expect(pushOrderViolations(requests)).toEqual([]);
    expectCanonicalSequence(requests, true);
    expect(permissive.tags.get('order/app')?.get('latest')).toBeDefined();
  }, 60_000);
});

describe('negative controls: a push in the wrong order is caught', () => {
  /** Pushes a plan with the index tags FIRST, then manifests, then blobs: what the check must refuse. */
  async function pushIndexFirst(host: string, plan: PushPlan): Promise<unknown> {
    const client = new RegistryClient({ registry: host, auth: 'anonymous', retry: { maxAttempts: 1 } });
    try {
      for (const tag of plan.index.tags) await client.putManifest(plan.repository, tag, plan.index.body, plan.index.mediaType);
      for (const m of plan.manifests) await client.putManifest(plan.repository, m.digest, m.body, m.mediaType);
      for (const b of plan.blobs) await client.pushBlob(plan.repository, { path: b.path }, b.digest, { size: b.size, mountFrom: [] });
      return undefined;
    } catch (error) {
      return error;
    } finally {
      client.close();
    }
  }

  async function badPlan(repository: string): Promise<PushPlan> {
    const images = await loadArchImages(workspace, 'app', ['amd64', 'arm64', 'arm']);
    return planPush(images, { repository, tags: ['bad'], perArchTags: false, format: 'oci', annotations: {} });
  }

  it('the permissive registry takes an index-first push (so only the order check can catch it), and the check does', async () => {
    const proxy = await startRecordingProxy(permissive.port);
    try {
      expect(await pushIndexFirst(proxy.host, await badPlan('control/app'))).toBeUndefined();
    } finally {
      await proxy.stop();
    }
    // The tag was readable while it named children that did not exist yet.
    expect(permissive.tags.get('control/app')?.get('bad')).toBeDefined();
    const violations = pushOrderViolations(proxy.requests);
    expect(violations.filter((v) => /^index .* was written before its child/.test(v))).toHaveLength(3);
    expect(violations.some((v) => /^manifest .* was written before its blob/.test(v))).toBe(true);
    expect(violations.some((v) => /was not finished before the index tag write/.test(v))).toBe(true);
    expect(writeSequence(proxy.requests)[0]).toBe('index tag bad');
  }, 60_000);

  it('distribution 2.8 refuses the index-first push outright (why a watcher on it alone proves nothing about the plugin)', async () => {
    const error = (await pushIndexFirst(debian.host, await badPlan('control/app'))) as Error | undefined;
    expect(error?.message).toMatch(/pushing manifest control\/app:bad/);
  }, 60_000);

  it('flags a manifest written before one of its blobs finished uploading, in a recorded sequence', () => {
    const manifest = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: 'sha256:' + 'c'.repeat(64) }, layers: [{ digest: 'sha256:' + 'l'.repeat(64) }] }));
    const requests: RecordedRequest[] = [
      { method: 'PUT', path: `/v2/x/blobs/uploads/1?digest=sha256:${'c'.repeat(64)}`, started: 1, finished: 2, status: 201 },
      { method: 'PUT', path: `/v2/x/blobs/uploads/2?digest=sha256:${'l'.repeat(64)}`, started: 3, finished: 6, status: 201 },
      { method: 'PUT', path: '/v2/x/manifests/v1', started: 4, finished: 5, status: 201, body: manifest },
    ];
    expect(pushOrderViolations(requests)).toEqual([`manifest PUT x:v1 (#4) was written before its blob ${'l'.repeat(12)} was stored`]);
    // The same writes in the right order pass.
    requests[2] = { ...requests[2], started: 7, finished: 8 };
    expect(pushOrderViolations(requests)).toEqual([]);
  });

  it('checks "index tags last" per repository: pushes of several projects run side by side', () => {
    const index = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const requests: RecordedRequest[] = [
      { method: 'PUT', path: '/v2/a/manifests/v1', started: 1, finished: 2, status: 201, body: index },
      // Another project's upload, still running when a's tag is written: fine.
      { method: 'PUT', path: `/v2/b/blobs/uploads/1?digest=sha256:${'b'.repeat(64)}`, started: 1, finished: 3, status: 201 },
    ];
    expect(pushOrderViolations(requests)).toEqual([]);
    // The same upload in a's own repository is a violation.
    requests[1] = { ...requests[1], path: `/v2/a/blobs/uploads/1?digest=sha256:${'b'.repeat(64)}` };
    expect(pushOrderViolations(requests)).toEqual([`PUT a upload ${'b'.repeat(12)} (#1) was not finished before the index tag write (#1)`]);
  });
});
