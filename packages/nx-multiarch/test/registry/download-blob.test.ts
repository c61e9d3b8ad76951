import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DigestMismatchError, sha256Digest, sha256FileDigest } from '../../src/oci/digest';
import type { Digest } from '../../src/oci/types';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client';
import { BlobDigestMismatchError, RegistryError, TransientRegistryError } from '../../src/registry/errors';
import { startRegistry, type RegistryServer } from '../support/registry-server';

/**
 * RegistryClient.downloadBlob against a real docker-registry (distribution
 * 2.8) on loopback: the blob streamed into a new file and checked while it
 * streams; a corrupted blob refused with a typed error; no file left behind
 * on any failure. Redirects, auth challenges and faults come from a small
 * HTTP front the test puts before the registry (distribution's filesystem
 * driver never redirects and the test registry is anonymous).
 */

/** What the front does with the next blob GET; once the script is used up, it forwards. */
type BlobFault =
  | { kind: 'status'; status: number }
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'redirect' }
  /** Forward this many bytes, then hold the rest until `release` resolves. */
  | { kind: 'pause'; afterBytes: number; release: Promise<void> };

interface Front {
  host: string;
  /** Blob GETs the front saw. */
  blobGets: number;
  /** Authorization headers that reached the "object storage" a redirect points to. */
  storageAuthorizations: (string | undefined)[];
  stop(): Promise<void>;
}

const USER = 'carol';
const PASSWORD = 'Front-pa55word!';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** Where distribution's filesystem driver keeps a blob's bytes. */
function blobFile(registry: RegistryServer, digest: Digest): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A front for the registry that asks for Basic credentials, applies the
 * fault script to blob GETs, and forwards everything else. A `redirect`
 * sends the client to a second server on another port (another origin, as
 * object storage would be) that serves the blob from the registry's folder.
 */
async function startFront(registry: RegistryServer, script: BlobFault[], repeatLast = false): Promise<Front> {
  const state = { blobGets: 0, storageAuthorizations: [] as (string | undefined)[] };
  const storage = http.createServer((req, res) => {
    state.storageAuthorizations.push(req.headers.authorization);
    const digest = `sha256:${(req.url ?? '').split('/').pop()?.split('?')[0] ?? ''}` as Digest;
    const file = blobFile(registry, digest);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    stat(file).then((info) => {
      res.writeHead(200, { 'Content-Length': info.size, 'Content-Type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    }, () => res.writeHead(500).end());
  });
  const storagePort = await listen(storage);

  let next = 0;
  const front = http.createServer((req, res) => {
    if (req.headers.authorization !== BASIC) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="front"', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const blob = req.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[a-f0-9]{64}$/.test(req.url ?? '');
    const fault = blob ? (next < script.length ? script[next++] : repeatLast ? script[script.length - 1] : undefined) : undefined;
    if (blob) state.blobGets += 1;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'Content-Length': 0 }).end();
      return;
    }
    if (fault?.kind === 'redirect') {
      const hex = (req.url ?? '').split('sha256:')[1];
      res.writeHead(307, { Location: `http://127.0.0.1:${storagePort}/objects/${hex}?signature=abc` }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const upstream = http.request(
      { host: '127.0.0.1', port: registry.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (fault?.kind === 'pause') {
          let sent = 0;
          let held = false;
          answer.on('data', (chunk: Buffer) => {
            if (held) return;
            sent += chunk.length;
            res.write(chunk);
            if (sent >= fault.afterBytes) {
              held = true;
              answer.pause();
              void fault.release.then(() => {
                answer.removeAllListeners('data');
                answer.pipe(res);
                answer.resume();
              });
            }
          });
          return;
        }
        if (fault?.kind !== 'cut') {
          answer.pipe(res);
          return;
        }
        // Headers promise the whole blob; the connection dies after some of it.
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return;
          const part = chunk.subarray(0, fault.afterBytes - sent);
          sent += part.length;
          res.write(part, () => {
            if (sent >= fault.afterBytes) {
              answer.destroy();
              req.socket.destroy();
            }
          });
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listen(front);
  return Object.assign(state, {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      await close(front);
      await close(storage);
    },
  });
}

describe('RegistryClient.downloadBlob against docker-registry', () => {
  let registry: RegistryServer;
  let work: string;
  const clients: RegistryClient[] = [];
  const client = (extra: Partial<RegistryClientOptions> = {}) => {
    const c = new RegistryClient({ registry: registry.host, access: 'push', auth: 'anonymous', ...extra });
    clients.push(c);
    return c;
  };
  let counter = 0;
  const destination = () => join(work, `download-${++counter}.bin`);

  /** Pushes random bytes and returns them with their digest. */
  async function pushRandom(repository: string, size: number): Promise<{ data: Buffer; digest: Digest }> {
    const data = randomBytes(size);
    const digest = sha256Digest(data);
    await client().pushBlob(repository, data, digest);
    return { data, digest };
  }

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'nxm-download-'));
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('streams a large blob into a new file as it arrives, checked against its digest', async () => {
    // 48 MiB written to disk in pieces, pushed from the file: the test itself never holds the blob either.
    const source = join(work, 'large.bin');
    const hash = createHash('sha256');
    const out = createWriteStream(source);
    for (let i = 0; i < 48; i++) {
      const piece = randomBytes(1024 * 1024);
      hash.update(piece);
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const digest: Digest = `sha256:${hash.digest('hex')}`;
    const size = 48 * 1024 * 1024;
    await client().pushBlob('t/large', { path: source }, digest, { size });

    // Through a front that holds the rest of the body after 8 MiB: the file must already hold
    // those bytes, so they went to disk as they came rather than at the end.
    let release: () => void = () => undefined;
    const front = await startFront(registry, [{ kind: 'pause', afterBytes: 8 * 1024 * 1024, release: new Promise<void>((r) => (release = () => r())) }]);
    try {
      const reader = client({ registry: front.host, auth: { username: USER, password: PASSWORD } });
      const path = destination();
      const download = reader.downloadBlob('t/large', digest, path, { size });
      const deadline = Date.now() + 10_000;
      let onDisk = 0;
      while (onDisk < 8 * 1024 * 1024 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        onDisk = (await stat(path).catch(() => ({ size: 0 }))).size;
      }
      expect(onDisk).toBeGreaterThanOrEqual(8 * 1024 * 1024);
      expect(onDisk).toBeLessThan(size);
      release();
      expect(await download).toEqual({ size });
      expect((await stat(path)).size).toBe(size);
      expect(await sha256FileDigest(path)).toBe(digest);
      expect(reader.stats.bytesReceived).toBeGreaterThanOrEqual(size);
    } finally {
      release();
      await front.stop();
    }
  });

  it('refuses a blob corrupted in the registry storage with a typed DIGEST_INVALID error and leaves no file', async () => {
    const { data, digest } = await pushRandom('t/corrupt', 200_000);
    const damaged = Buffer.from(data);
    damaged[123_456] ^= 0xff;
    await writeFile(blobFile(registry, digest), damaged);

    const path = destination();
    const error = await client()
      .downloadBlob('t/corrupt', digest, path)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobDigestMismatchError);
    // The plugin's one digest-mismatch type: layouts, caches and the registry all throw it.
    expect(error).toBeInstanceOf(DigestMismatchError);
    const mismatch = error as BlobDigestMismatchError;
    expect(mismatch.code).toBe('DIGEST_INVALID');
    expect(mismatch.codes).toEqual(['DIGEST_INVALID']);
    expect(mismatch.expected).toBe(digest);
    expect(mismatch.actual).toBe(sha256Digest(damaged));
    expect(mismatch.message).toContain(`expected ${digest}, got ${sha256Digest(damaged)}`);
    expect(mismatch.hint).toMatch(/corrupted/);
    expect(existsSync(path)).toBe(false);

    // The in-memory read refuses it with the same type.
    await expect(client().getBlob('t/corrupt', digest)).rejects.toBeInstanceOf(BlobDigestMismatchError);
  });

  it('stops as soon as more bytes come than the descriptor size says, and leaves no file', async () => {
    const { digest } = await pushRandom('t/size', 300_000);
    const path = destination();
    const error = (await client()
      .downloadBlob('t/size', digest, path, { size: 1000 })
      .catch((e: unknown) => e)) as BlobDigestMismatchError;
    expect(error).toBeInstanceOf(BlobDigestMismatchError);
    expect(error.actual).toBeUndefined();
    expect(error.message).toMatch(/expected 1000 bytes/);
    expect(existsSync(path)).toBe(false);
  });

  it('answers a missing blob with a 404 RegistryError and leaves no file', async () => {
    const path = destination();
    const digest = sha256Digest(randomBytes(64));
    const error = (await client()
      .downloadBlob('t/corrupt', digest, path)
      .catch((e: unknown) => e)) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).not.toBeInstanceOf(BlobDigestMismatchError);
    expect(error.status).toBe(404);
    expect(error.message).toContain(`fetching blob ${digest} from t/corrupt`);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses to overwrite an existing file and leaves it as it was', async () => {
    const { digest } = await pushRandom('t/exists', 1000);
    const path = destination();
    await writeFile(path, 'precious');
    const error = (await client()
      .downloadBlob('t/exists', digest, path)
      .catch((e: unknown) => e)) as RegistryError;
    expect(error.message).toMatch(/already exists/);
    expect(await readFile(path, 'utf8')).toBe('precious');
  });

  it('answers a Basic challenge and follows a redirect to another origin without taking the credentials there', async () => {
    const { data, digest } = await pushRandom('t/redirect', 500_000);
    const front = await startFront(registry, [{ kind: 'redirect' }]);
    try {
      const path = destination();
      const c = client({ registry: front.host, auth: { username: USER, password: PASSWORD } });
      expect(await c.downloadBlob('t/redirect', digest, path)).toEqual({ size: data.length });
      expect((await readFile(path)).equals(data)).toBe(true);
      // The object storage saw the one request, and no Authorization header with it.
      expect(front.storageAuthorizations).toEqual([undefined]);
    } finally {
      await front.stop();
    }
  });

  it('retries a 503 and a connection cut mid-body, starting over, and ends with exactly the blob', async () => {
    const { data, digest } = await pushRandom('t/faults', 2_000_000);
    const front = await startFront(registry, [{ kind: 'status', status: 503 }, { kind: 'cut', afterBytes: 700_000 }]);
    const lines: string[] = [];
    try {
      const path = destination();
      const c = client({ registry: front.host, auth: { username: USER, password: PASSWORD }, retry: { baseDelayMs: 20 }, log: (l) => lines.push(l) });
      expect(await c.downloadBlob('t/faults', digest, path)).toEqual({ size: data.length });
      expect((await readFile(path)).equals(data)).toBe(true);
      expect(front.blobGets).toBe(3);
      expect(lines.filter((l) => l.startsWith('retrying download'))).toHaveLength(2);
      expect(lines.join('\n')).not.toContain(PASSWORD);
    } finally {
      await front.stop();
    }
  });

  it('gives up after the retry bound with a TransientRegistryError and leaves no partial file', async () => {
    const { digest } = await pushRandom('t/flaky', 1_000_000);
    const front = await startFront(registry, [{ kind: 'cut', afterBytes: 100_000 }], true);
    try {
      const path = destination();
      const c = client({ registry: front.host, auth: { username: USER, password: PASSWORD }, retry: { baseDelayMs: 10, maxAttempts: 3 } });
      const error = (await c.downloadBlob('t/flaky', digest, path).catch((e: unknown) => e)) as TransientRegistryError;
      expect(error).toBeInstanceOf(TransientRegistryError);
      expect(error.message).toMatch(/after 3 attempts/);
      expect(front.blobGets).toBe(3);
      expect(existsSync(path)).toBe(false);
    } finally {
      await front.stop();
    }
  });
});
