import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRequest, entryPath, type CacheExchange } from '../support/cache-http';
import { startCacheServer, type CacheServerProcess } from '../support/cache-server';

/**
 * The cache server under a CI fleet's start: 50, 100 and 200 clients at once
 * on loopback, each doing a bounded number of Nx-protocol requests (reads of
 * stored entries, and uploads of new ones), against the server as users run
 * it (its own process, file storage). Every request succeeds, the server's
 * resident memory stays bounded, and p50/p99 latencies are printed. With
 * small caps, the overflow gets 503 + Retry-After, and clients that honour
 * it all get through.
 */
const ENTRY_BYTES = 256 * 1024;
const STORED = 40;
const REQUESTS_PER_CLIENT = 4;
const WAVES = [50, 100, 200];

const hashOf = (i: number, salt: string) => createHash('sha256').update(`${salt}-${i}`).digest('hex').slice(0, 40);
const bodyOf = (hash: string) => Buffer.concat([Buffer.from(hash), randomBytes(ENTRY_BYTES - hash.length)]);

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe('cache server under load', () => {
  let root: string;
  let server: CacheServerProcess | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-cache-load-'));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it(`serves ${WAVES.join(', ')} concurrent clients with no failed request and bounded memory`, async () => {
    server = await startCacheServer({ storage: `file://${join(root, 'store')}` });
    const { url, readWriteToken: rw, readOnlyToken: ro } = server;
    const stored = new Map<string, Buffer>();
    for (let i = 0; i < STORED; i++) {
      const hash = hashOf(i, 'stored');
      const body = bodyOf(hash);
      expect((await cacheRequest(url, entryPath(hash), { method: 'PUT', token: rw, body })).status).toBe(200);
      stored.set(hash, body);
    }
    const hashes = [...stored.keys()];
    const baseline = rssOf(server.pid);
    let peakRss = baseline;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server!.pid))), 50);
    const report: string[] = [];
    try {
      for (const clients of WAVES) {
        const latencies: number[] = [];
        const failures: string[] = [];
        const client = async (c: number) => {
          for (let r = 0; r < REQUESTS_PER_CLIENT; r++) {
            const started = performance.now();
            let exchange: CacheExchange;
            // One request in four is an upload of a new entry, as a build that misses does.
            if (r === REQUESTS_PER_CLIENT - 1 && c % 4 === 0) {
              const hash = hashOf(c, `wave-${clients}`);
              exchange = await cacheRequest(url, entryPath(hash), { method: 'PUT', token: rw, body: bodyOf(hash) });
              if (exchange.status !== 200) failures.push(`PUT ${hash}: ${exchange.status}`);
            } else {
              const hash = hashes[(c * 7 + r) % hashes.length];
              exchange = await cacheRequest(url, entryPath(hash), { token: ro });
              if (exchange.status !== 200 || !exchange.body.equals(stored.get(hash)!)) failures.push(`GET ${hash}: ${exchange.status}, ${exchange.body.length} bytes`);
            }
            latencies.push(performance.now() - started);
          }
        };
        const started = Date.now();
        await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
        const wall = Date.now() - started;
        expect(failures).toEqual([]);
        latencies.sort((a, b) => a - b);
        report.push(
          `${clients} clients, ${latencies.length} requests in ${wall} ms: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
        );
      }
    } finally {
      clearInterval(sampler);
    }
    // Entries are streamed, never held whole: 200 clients of 256 KiB entries must not add 200 x 256 KiB and more.
    const grew = peakRss - baseline;
    report.push(`server RSS ${(baseline / 2 ** 20).toFixed(0)} MiB at rest, peak ${(peakRss / 2 ** 20).toFixed(0)} MiB (+${(grew / 2 ** 20).toFixed(0)} MiB)`);
    console.log(report.join('\n'));
    expect(peakRss).toBeLessThan(256 * 2 ** 20);
    await server.stop();
    server = undefined;
  }, 300_000);

  it('over its caps answers 503 with Retry-After; clients that wait as told all get through', async () => {
    server = await startCacheServer({ storage: `file://${join(root, 'capped')}`, extraArgs: ['--max-concurrent-requests', '2', '--max-queued-requests', '4'] });
    const { url, readWriteToken: rw } = server;
    const clients = 60;
    let refused = 0;
    const retryAfter = new Set<string>();
    const failures: string[] = [];
    const client = async (c: number) => {
      const hash = hashOf(c, 'capped');
      const body = bodyOf(hash);
      // Bounded: at most 30 tries each.
      for (let attempt = 0; attempt < 30; attempt++) {
        const exchange = await cacheRequest(url, entryPath(hash), { method: 'PUT', token: rw, body }).catch((e: Error) => ({ status: 0, headers: {}, body: Buffer.from(e.message) }) as CacheExchange);
        if (exchange.status === 200) return;
        if (exchange.status === 503) {
          refused += 1;
          retryAfter.add(String(exchange.headers['retry-after']));
          await new Promise((r) => setTimeout(r, Number(exchange.headers['retry-after'] ?? 1) * 1000 * (0.5 + Math.random())));
          continue;
        }
        // A refused upload's connection is closed before its body is read: the client may see a reset instead.
        if (exchange.status === 0) {
          refused += 1;
          await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
          continue;
        }
        failures.push(`PUT ${hash}: ${exchange.status}`);
        return;
      }
      failures.push(`PUT ${hash}: gave up after 30 tries`);
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    expect(failures).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect([...retryAfter].filter((v) => v !== 'undefined')).toEqual(['1']);
    // Every entry is there, whole.
    for (let c = 0; c < clients; c++) {
      const hash = hashOf(c, 'capped');
      const got = await cacheRequest(url, entryPath(hash), { token: server.readOnlyToken });
      expect(got.status).toBe(200);
      expect(got.body.subarray(0, hash.length).toString()).toBe(hash);
    }
    expect(server.log()).toMatch(/ 503 0B .*refused: \d+ requests running and 4 waiting/);
    console.log(`${clients} uploads through caps of 2 running + 4 waiting: ${refused} refusals (503 or closed), 0 failures`);
    await server.stop();
    server = undefined;
  }, 300_000);
});
