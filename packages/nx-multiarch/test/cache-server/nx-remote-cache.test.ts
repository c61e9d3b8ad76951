import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEntryManifest } from '../../src/cache-server/oci-entry';
import type { CacheKey } from '../../src/cache-server/cache-key';
import { RegistryClient } from '../../src/registry/client';
import { fileStoreEntries, fileStoreRecord, startCacheServer, type CacheServerProcess } from '../support/cache-server';
import { cloneWorkspace, projectsThatRan, removeClone, runNx, writeProbeWorkspace, type Clone } from '../support/nx-clone';
import { startRegistry, type RegistryServer } from '../support/registry-server';

/**
 * A CI run simulated on one machine, with real Nx (the workspace's own
 * nx 24) against `nx-multiarch cache-server` on loopback: fresh clones with
 * empty local caches share results only through the server. Run once with
 * entries in a docker-registry (oci://) and once in a folder (file://).
 */
const PROJECTS = ['a', 'b', 'c'];
const BUILD = ['run-many', '-t', 'build'];
const REPOSITORY = 'ci/nx-cache';

/** The store behind the server, with what the test needs to inspect or damage it. */
interface Store {
  storage: string;
  /** The hashes that hold an entry. */
  entries(): Promise<string[]>;
  /** Flips a byte of the entry's stored blob, behind the server's back. */
  corrupt(hash: string): Promise<void>;
  close(): Promise<void>;
}

async function ociStore(): Promise<Store> {
  const registry: RegistryServer = await startRegistry();
  const client = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
  const blobDigest = async (hash: string) => {
    const reading = readEntryManifest(hash as CacheKey, (await client.getManifest(REPOSITORY, hash)).body);
    if (reading.kind !== 'entry') throw new Error(`tag ${hash} holds no entry`);
    return reading.blob.digest;
  };
  return {
    storage: `oci://${registry.host}/${REPOSITORY}`,
    async entries() {
      const tags = await client.listTags(REPOSITORY);
      const live: string[] = [];
      for (const tag of tags) {
        const reading = readEntryManifest(tag as CacheKey, (await client.getManifest(REPOSITORY, tag)).body);
        if (reading.kind === 'entry') live.push(tag);
      }
      return live.sort();
    },
    async corrupt(hash) {
      const hex = (await blobDigest(hash)).slice('sha256:'.length);
      const file = join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      await flipByte(file);
    },
    async close() {
      client.close();
      await registry.stop();
    },
  };
}

async function fileStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'nxm-cache-store-'));
  return {
    storage: `file://${dir}`,
    entries: async () => (await fileStoreEntries(dir)).sort(),
    async corrupt(hash) {
      const { digest } = await fileStoreRecord(dir, hash);
      await flipByte(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await writeFile(file, bytes);
}

/** `PUT /v1/cache/<hash> <status>` lines of the server's request log. */
function puts(log: string, status: number): string[] {
  return [...log.matchAll(new RegExp(`PUT /v1/cache/(\\w+) ${status} `, 'g'))].map((m) => m[1]);
}

describe.each([
  ['oci', ociStore],
  ['file', fileStore],
])('Nx remote cache through nx-multiarch cache-server (%s storage)', (_kind, openStore) => {
  let store: Store;
  let server: CacheServerProcess;
  let template: string;
  const clones: Clone[] = [];
  const clone = async (name: string) => {
    const c = await cloneWorkspace(template, name);
    clones.push(c);
    return c;
  };
  const rw = () => ({ url: server.url, token: server.readWriteToken });
  const ro = () => ({ url: server.url, token: server.readOnlyToken });

  beforeAll(async () => {
    store = await openStore();
    server = await startCacheServer({ storage: store.storage });
    template = await mkdtemp(join(tmpdir(), 'nxm-probe-template-'));
    await writeProbeWorkspace(template, [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c' }]);
  });
  afterAll(async () => {
    await server?.stop();
    for (const c of clones) await removeClone(c);
    if (template) await rm(template, { recursive: true, force: true });
    await store?.close();
  });

  it('clone A builds every task and uploads each result', async () => {
    const a = await clone('a');
    const result = await runNx(a, BUILD, rw());
    expect(result.exitCode).toBe(0);
    expect(await projectsThatRan(a, PROJECTS)).toEqual(PROJECTS);
    const stored = puts(server.log(), 200);
    expect(stored).toHaveLength(3);
    expect(await store.entries()).toEqual([...stored].sort());
  });

  it('clone B, with an empty local cache, takes every task from the remote cache and runs nothing', async () => {
    const b = await clone('b');
    const result = await runNx(b, BUILD, rw());
    expect(result.exitCode).toBe(0);
    for (const name of PROJECTS) expect(result.output).toMatch(new RegExp(`nx run ${name}:build\\s+\\[remote cache\\]`));
    expect(result.output).toContain('Nx read the output from the cache instead of running the command for 3 out of 3 tasks');
    expect(await projectsThatRan(b, PROJECTS)).toEqual([]);
    for (const name of PROJECTS) expect(await readFile(join(b.dir, 'dist', name, 'out.txt'), 'utf8')).toBe(`source of ${name}\n`);
  });

  it('a clone with a read-only token reads hits, writes nothing, and its run still succeeds', async () => {
    const r = await clone('read-only');
    await writeFile(join(r.dir, 'libs', 'c', 'src.txt'), 'changed in a pull request\n');
    const before = await store.entries();
    const refusedBefore = puts(server.log(), 403).length;
    const result = await runNx(r, BUILD, ro());
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/nx run a:build\s+\[remote cache\]/);
    expect(result.output).toMatch(/nx run b:build\s+\[remote cache\]/);
    expect(await projectsThatRan(r, PROJECTS)).toEqual(['c']);
    expect(await readFile(join(r.dir, 'dist', 'c', 'out.txt'), 'utf8')).toBe('changed in a pull request\n');
    expect(puts(server.log(), 403).length).toBe(refusedBefore + 1);
    expect(await store.entries()).toEqual(before);
  });

  it('with the server down the command fails with Nx\'s own message, and NX_SKIP_REMOTE_CACHE=true runs it locally', async () => {
    const url = server.url;
    await server.stop();
    const d = await clone('down');
    const down = await runNx(d, BUILD, { url, token: server.readWriteToken });
    expect(down.exitCode).not.toBe(0);
    expect(down.output).toContain('Failed to send request');
    expect(down.output).toContain(`${url}/v1/cache/`);

    const skipped = await runNx(d, BUILD, { url, token: server.readWriteToken }, { NX_SKIP_REMOTE_CACHE: 'true' });
    expect(skipped.exitCode).toBe(0);
    expect(skipped.output).toContain('Remote Cache Disabled');
    expect(await projectsThatRan(d, PROJECTS)).toEqual(PROJECTS);
  });

  it('a new server over the same store serves what the old one stored (the server keeps no state)', async () => {
    server = await startCacheServer({ storage: store.storage });
    const f = await clone('restarted');
    const result = await runNx(f, BUILD, ro());
    expect(result.exitCode).toBe(0);
    expect(await projectsThatRan(f, PROJECTS)).toEqual([]);
  });

  it('a corrupted entry is refused, not served; the next run rebuilds that task and stores it again', async () => {
    const entries = await store.entries();
    const victim = entries[0];
    await store.corrupt(victim);

    const e = await clone('corrupt');
    const refused = await runNx(e, BUILD, rw());
    expect(refused.exitCode).not.toBe(0);
    expect(refused.output).toContain('Unexpected response status: 500');
    expect(server.log()).toContain(`Cache entry ${victim} is corrupted`);
    expect(server.log()).toMatch(new RegExp(`GET /v1/cache/${victim} 500 0B`));

    const rerun = await runNx(e, BUILD, rw());
    expect(rerun.exitCode).toBe(0);
    expect(await projectsThatRan(e, PROJECTS)).toHaveLength(1);
    expect(puts(server.log(), 200)).toEqual([victim]);

    const g = await clone('healed');
    const healed = await runNx(g, BUILD, ro());
    expect(healed.exitCode).toBe(0);
    expect(await projectsThatRan(g, PROJECTS)).toEqual([]);
  });
});
