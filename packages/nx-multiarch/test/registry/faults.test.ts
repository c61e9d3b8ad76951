import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageIndex, ImageManifest } from '../../src/oci/types';
import { publishProject } from '../../src/publish/publish-project';
import { RegistryClient } from '../../src/registry/client';
import { Fault, FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { pushOrderViolations } from '../support/push-order';
import { startRecordingProxy } from '../support/recording-proxy';
import { RegistryServer, startRegistry } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';

/**
 * Pushes through a proxy that drops connections mid-upload and answers
 * bursts of 500/503/429, while a second client polls the tag straight from
 * the registry: the push must complete, and the tag must never name an index
 * whose children (or their blobs) are missing. That watcher alone cannot fail
 * here: distribution 2.8 refuses an index whose children are missing. So a
 * recording proxy in front of the faults also checks the order the push kept
 * through its retries (test/registry/push-order.test.ts proves that check
 * against a registry that accepts any order).
 */
describe('manifest-push through a fault-injecting proxy', () => {
  let registry: RegistryServer;
  let workspace: string;
  const fastRetry = { baseDelayMs: 20, maxDelayMs: 2000, maxTotalMs: 30_000, maxAttempts: 8 };

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = await mkdtemp(join(tmpdir(), 'nxm-faults-'));
    await writeTestImages(workspace, 'app', ['amd64', 'arm64', 'arm'], { appLayerBytes: 1_500_000, baseLayerBytes: 1_000_000 });
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  /** Watches a tag until stopped; records every moment it named something missing. Bounded by `stop`. */
  function watchTag(repository: string, tag: string) {
    const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous', retry: { maxAttempts: 1 } });
    const violations: string[] = [];
    let sawIndex = 0;
    let polls = 0;
    let running = true;
    const loop = (async () => {
      while (running && polls < 5000) {
        polls += 1;
        const digest = await reader.hasManifest(repository, tag);
        if (digest) {
          const index = JSON.parse((await reader.getManifest(repository, digest)).body.toString()) as ImageIndex;
          sawIndex += 1;
          for (const child of index.manifests) {
            if (!(await reader.hasManifest(repository, child.digest))) {
              violations.push(`index ${digest} names missing child ${child.digest}`);
              continue;
            }
            const manifest = JSON.parse((await reader.getManifest(repository, child.digest)).body.toString()) as ImageManifest;
            for (const blob of [manifest.config, ...manifest.layers]) {
              if (!(await reader.hasBlob(repository, blob.digest))) violations.push(`child ${child.digest} names missing blob ${blob.digest}`);
            }
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    return {
      violations,
      stats: () => ({ polls, sawIndex }),
      stop: async () => {
        running = false;
        await loop;
        reader.close();
      },
    };
  }

  it('completes through dropped uploads and 500/503/429 bursts, and the tag never points at a missing child', async () => {
    const script: Fault[] = [
      { kind: 'drop', afterBytes: 300_000 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 500 },
      { kind: 'pass' },
      { kind: 'drop', afterBytes: 700_000 },
      { kind: 'status', status: 429, retryAfterSeconds: 1 },
      { kind: 'status', status: 503 },
      { kind: 'drop', afterBytes: 100_000 },
      { kind: 'pass' },
      { kind: 'status', status: 502 },
      { kind: 'drop', afterBytes: 1_200_000 },
      { kind: 'status', status: 500 },
    ];
    const proxy: FaultProxy = await startFaultProxy(registry.port, script);
    const recorder = await startRecordingProxy(Number(proxy.host.split(':')[1]));
    const watcher = watchTag('faulty/app', 'f1');
    const logged: string[] = [];
    try {
      const { report, plan } = await publishProject({
        options: { registry: recorder.host, repository: 'faulty/app', tags: 'f1' },
        project: { workspaceRoot: workspace, name: 'app', root: 'packages/app' },
        env: {},
        log: (line) => logged.push(line),
        client: { auth: 'anonymous', retry: fastRetry, maxSockets: 4 },
      });
      expect(report?.verified).toBe(true);
      expect(report?.blobs.uploaded).toBe(plan.blobs.length);
      // The script's faults were really met, and retried.
      // Under load some scripted faults fall on requests that retried already; most must still be met.
      expect(proxy.injected.status + proxy.injected.drop).toBeGreaterThanOrEqual(5);
      expect(logged.join('\n')).toMatch(/retrying/);
      // Retried uploads re-sent bytes: more went over the wire than the blobs hold.
      expect(report?.bytesSent).toBeGreaterThan(report?.blobs.bytesUploaded ?? Infinity);
      // Through every retry, the order held: blobs before manifests, manifests before the index, index tags last.
      expect(pushOrderViolations(recorder.requests)).toEqual([]);
    } finally {
      await watcher.stop();
      await recorder.stop();
      await proxy.stop();
    }
    expect(watcher.violations).toEqual([]);
    expect(watcher.stats().polls).toBeGreaterThan(10);
    expect(watcher.stats().sawIndex).toBeGreaterThan(0);
  }, 90_000);

  it('gives up within its bounds when the registry keeps failing, leaving no tag', async () => {
    const proxy = await startFaultProxy(registry.port, [{ kind: 'status', status: 503 }], true);
    const started = Date.now();
    try {
      const error = (await publishProject({
        options: { registry: proxy.host, repository: 'down/app', tags: 'never' },
        project: { workspaceRoot: workspace, name: 'app', root: 'packages/app' },
        env: {},
        log: () => undefined,
        client: { auth: 'anonymous', retry: { baseDelayMs: 10, maxDelayMs: 100, maxTotalMs: 2000, maxAttempts: 4 } },
      }).catch((e: unknown) => e)) as Error & { hint?: string };
      expect(error.message).toMatch(/answered 503/);
      expect(error.hint).toMatch(/run again/);
    } finally {
      await proxy.stop();
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
    try {
      expect(await reader.listTags('down/app')).toEqual([]);
    } finally {
      reader.close();
    }
  });
});
