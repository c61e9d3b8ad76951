import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy, type Fault } from '../support/fault-proxy';
import { freePort, startRegistry, type RegistryServer } from '../support/registry-server';
import { buildPlugin, nx, removeScratchClone, scratchClone, type ScratchClone } from './scratch-clone';

/**
 * Faults of the services a run talks to, through real Nx in a scratch clone.
 * Registry: a full push of linkerd2-proxy-init (three arches) through the
 * fault-injecting proxy (drops mid-upload, bursts of 500/503/429) completes
 * with a whole index. Remote cache: a server that is down, one that answers
 * 500 to everything and one that is slow. Nx's behaviour is each time what
 * its own messages say, and NX_SKIP_REMOTE_CACHE=true always lets the run go on.
 */
const PROJECT = 'linkerd2-proxy-init';
const TOKEN = 'fault-test-token-0123456789abcdef';

let clone: ScratchClone | undefined;
let registry: RegistryServer | undefined;
const servers: Server[] = [];

beforeAll(async () => {
  await buildPlugin();
  clone = await scratchClone('services');
  registry = await startRegistry();
}, 120_000);

afterAll(async () => {
  for (const s of servers) await new Promise((done) => s.close(done));
  await registry?.stop();
  await removeScratchClone(clone);
});

const INDEX_TYPES = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json';

test('a full push through drops and 500/503/429 bursts completes, and the index it leaves is whole', async () => {
  const script: Fault[] = [
    { kind: 'drop', afterBytes: 4096 },
    { kind: 'status', status: 500 },
    { kind: 'status', status: 503 },
    { kind: 'status', status: 429, retryAfterSeconds: 1 },
    { kind: 'pass' },
    { kind: 'drop', afterBytes: 64 * 1024 },
    { kind: 'status', status: 502 },
    { kind: 'pass' },
    { kind: 'drop', afterBytes: 200 * 1024 },
  ];
  const proxy = await startFaultProxy(registry!.port, script);
  try {
    const push = await nx(clone!, ['run', `${PROJECT}:manifest-push`, `--registry=${proxy.host}/faults`, '--tags=faulty'], {}, 480_000);
    if (push.code !== 0) throw new Error(push.output);
    expect(proxy.injected.status + proxy.injected.drop).toBeGreaterThanOrEqual(4);
  } finally {
    await proxy.stop();
  }
  // Read straight from the registry, not through the proxy.
  const index = await fetch(`${registry!.url}/v2/faults/${PROJECT}/manifests/faulty`, { headers: { Accept: INDEX_TYPES } });
  expect(index.status).toBe(200);
  const children = ((await index.json()) as { manifests: { digest: string; platform: { architecture: string } }[] }).manifests;
  expect(children.map((c) => c.platform.architecture).sort()).toEqual(['amd64', 'arm', 'arm64']);
  for (const child of children) {
    const head = await fetch(`${registry!.url}/v2/faults/${PROJECT}/manifests/${child.digest}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(head.status).toBe(200);
  }
}, 600_000);

/** A remote cache that misbehaves on purpose: `answer` decides status and delay for each request. */
async function misbehavingCache(answer: (method: string) => { status: number; delayMs: number }): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const { status, delayMs } = answer(request.method ?? 'GET');
      setTimeout(() => response.writeHead(status, { 'Content-Length': '0' }).end(), delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const remote = (url: string, skip = false) => ({
  NX_SELF_HOSTED_REMOTE_CACHE_SERVER: url,
  NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN,
  ...(skip ? { NX_SKIP_REMOTE_CACHE: 'true' } : {}),
});
// --skip-nx-cache would also skip the remote; instead each case changes a cache input (GOFLAGS) so the local cache misses.
const goCross = ['run', `${PROJECT}:go-cross`, '--arch=arm64'];

test('remote cache down: Nx stops with its own message; NX_SKIP_REMOTE_CACHE=true runs locally', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const down = await nx(clone!, goCross, { ...remote(url), GOFLAGS: '-p=2' }, 180_000);
  expect(down.code).not.toBe(0);
  // Nx 24's own words: "Failed to send request: error sending request for url (<server>/v1/cache/<hash>)".
  expect(down.output).toMatch(new RegExp(`Failed to send request: error sending request for url \\(${url}/v1/cache/\\d+\\)`));
  const skipped = await nx(clone!, goCross, { ...remote(url, true), GOFLAGS: '-p=2' }, 180_000);
  expect(skipped.code).toBe(0);
}, 400_000);

test('remote cache answering 500: Nx stops with its own message; NX_SKIP_REMOTE_CACHE=true runs locally', async () => {
  const url = await misbehavingCache(() => ({ status: 500, delayMs: 0 }));
  const failing = await nx(clone!, goCross, { ...remote(url), GOFLAGS: '-p=1' }, 180_000);
  // Nx 24 stops the whole run and says so: "Misconfigured remote cache endpoint: Unexpected response status: 500 …".
  expect(failing.code).not.toBe(0);
  expect(failing.output).toMatch(/Misconfigured remote cache endpoint: Unexpected response status: 500/);
  const skipped = await nx(clone!, goCross, { ...remote(url, true), GOFLAGS: '-p=1' }, 180_000);
  expect(skipped.code).toBe(0);
  expect(skipped.output).not.toMatch(/\b500\b/);
}, 400_000);

test('a slow remote cache (2 s per request) slows the run but does not break it', async () => {
  let requests = 0;
  const url = await misbehavingCache((method) => {
    requests++;
    return { status: method === 'GET' ? 404 : 200, delayMs: 2_000 };
  });
  const started = Date.now();
  const slow = await nx(clone!, goCross, { ...remote(url), GOFLAGS: '-p=3' }, 180_000);
  expect(slow.code).toBe(0);
  expect(requests).toBeGreaterThan(0);
  expect(Date.now() - started).toBeGreaterThan(2_000);
}, 400_000);
