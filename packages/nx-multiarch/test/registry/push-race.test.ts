import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishProject } from '../../src/publish/publish-project';
import type { PlannedBlob } from '../../src/publish/plan';
import { RegistryClient } from '../../src/registry/client';
import { RegistryServer, startRegistry } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';

/**
 * Two pushes of the same images into one repository race: while one pushes
 * its manifests, the other commits the same blobs again. Distribution 2.8
 * (filesystem storage) rewrites a blob's repository link on every commit by
 * truncating the file and writing it anew, so a manifest PUT that checks the
 * blob in that instant reads an empty link and is refused with
 * DIGEST_INVALID + MANIFEST_BLOB_UNKNOWN. The second push is played here by a
 * loop of raw uploads (bounded in count and time), so the window is hit often.
 */
describe('a push while another push commits the same blobs', () => {
  let registry: RegistryServer;
  let workspace: string;

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = await mkdtemp(join(tmpdir(), 'nxm-race-ws-'));
    await mkdir(join(workspace, 'packages', 'app'), { recursive: true });
    await writeTestImages(workspace, 'app', ['amd64', 'arm64']);
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  const push = (repository: string, dryRun = false, log: (line: string) => void = () => undefined) =>
    publishProject({
      options: { registry: registry.host, repository, tags: 'r', arches: 'amd64,arm64', dryRun },
      project: { workspaceRoot: workspace, name: 'app', root: 'packages/app' },
      log,
    });

  /**
   * Commits every blob into `repository` again and again (POST, then PUT
   * ?digest= with the bytes), from eight loops at once, until `stop()`: the
   * other push, caught in the middle of its blob commits for as long as needed.
   */
  const recommitter = (repository: string, blobs: readonly { digest: string; bytes: Buffer }[]) => {
    let stopped = false;
    let commits = 0;
    const loop = async () => {
      const deadline = Date.now() + 20_000;
      while (!stopped && Date.now() < deadline && commits < 5000) {
        for (const blob of blobs) {
          const opened = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
          const location = new URL(opened.headers.get('location') ?? '', registry.url);
          location.searchParams.set('digest', blob.digest);
          const done = await fetch(location, { method: 'PUT', body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
          await done.arrayBuffer();
          if (done.status !== 201) throw new Error(`re-commit of ${blob.digest} answered ${done.status}`);
          commits += 1;
        }
      }
    };
    const loops = Promise.all(Array.from({ length: 8 }, loop));
    return {
      stop: () => {
        stopped = true;
      },
      done: async () => {
        stopped = true;
        await loops;
        return commits;
      },
    };
  };

  it('pushes its manifests and index every time, trying a refused manifest again once the blobs are confirmed', async () => {
    const { plan } = await push('race/plan', true);
    const blobs = await Promise.all(plan.blobs.map(async (b: PlannedBlob) => ({ digest: b.digest, bytes: await readFile(b.path) })));
    const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
    let roundsRefused = 0;
    try {
      // Until two rounds met the race, at most 60 rounds (one in about eight meets it).
      let round = 0;
      for (; round < 60 && roundsRefused < 2; round++) {
        const repository = `race/r${round}`;
        const other = recommitter(repository, blobs);
        let refused = false;
        // The other push finishes its commits as soon as this one met the race: as two real pushes do.
        const log = (line: string) => {
          if (/does not see every (blob|child)/.test(line)) {
            refused = true;
            other.stop();
          }
        };
        const result = await push(repository, false, log).finally(() => other.done());
        if (refused) roundsRefused += 1;
        expect(result.report?.verified).toBe(true);
        expect((await reader.getManifest(repository, 'r')).digest).toBe(plan.index.digest);
        for (const blob of plan.blobs) expect(await reader.hasBlob(repository, blob.digest)).toBe(true);
      }
      if (process.env.RACE_DEBUG) console.log(`rounds ${round}, refused ${roundsRefused}`);
    } finally {
      reader.close();
    }
    // The race was met (a PUT refused with MANIFEST_BLOB_UNKNOWN), so the rounds above did test the recovery.
    expect(roundsRefused).toBeGreaterThan(0);
  }, 120_000);
});
