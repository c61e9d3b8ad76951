import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec';
import { BIN, ensurePluginBuilt, newToken, startCacheServer } from '../support/cache-server';

/** The `nx-multiarch` command as a user runs it: help, mistakes, TLS, stopping. */
describe('nx-multiarch cache-server command', () => {
  let dir: string;
  beforeAll(async () => {
    await ensurePluginBuilt();
    dir = await mkdtemp(join(tmpdir(), 'nxm-cache-cli-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const nxMultiarch = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeoutMs: 30_000 });

  it('lists its commands', async () => {
    const result = await nxMultiarch(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('cache-server');
  });

  it('explains every option, the protocol and the safety rules in --help', async () => {
    const result = await nxMultiarch(['cache-server', '--help']);
    expect(result.exitCode).toBe(0);
    for (const text of [
      '--storage file://',
      '--storage oci://',
      '--host',
      '--port',
      '--read-write-token-env',
      '--read-only-token-file',
      '--max-entry-size',
      'PUT  /v1/cache/<hash>',
      '409',
      '403',
      '/health',
      'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN',
      'NX_SKIP_REMOTE_CACHE=true',
      'CVE-2025-36852',
      'Pull requests',
    ]) {
      expect(result.stdout).toContain(text);
    }
  });

  it('names the problem and the fix, and exits 1, on a bad command line', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['deploy'], {}, /unknown command "deploy"[\s\S]*hint:/],
      [['cache-server'], {}, /needs --storage[\s\S]*hint:/],
      [['cache-server', '--storage', 's3://bucket'], {}, /neither a file:\/\/ nor an oci:\/\/[\s\S]*hint:/],
      [['cache-server', '--storage', `file://${dir}/s`, '--port', '0'], {}, /has no token[\s\S]*hint:/],
      [['cache-server', '--storage', `file://${dir}/s`, '--read-write-token-env', 'NXM_UNSET_TOKEN'], {}, /NXM_UNSET_TOKEN, but it is not set[\s\S]*hint:/],
    ];
    for (const [args, env, expected] of cases) {
      const result = await nxMultiarch(args, env);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(expected);
    }
  });

  it('never prints a token, even in an error about it', async () => {
    const token = newToken('rw');
    const result = await nxMultiarch(
      ['cache-server', '--storage', `file://${dir}/s`, '--read-write-token-env', 'T1', '--read-only-token-env', 'T2'],
      { T1: token, T2: token },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('same token');
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
  });

  it('says so when the port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await nxMultiarch(['cache-server', '--storage', `file://${dir}/s`, '--port', String(port), '--read-write-token-env', 'T1'], {
        T1: newToken('rw'),
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/Cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)[\s\S]*hint: Another process uses that port/);
    } finally {
      busy.close();
    }
  });

  it('serves https with --tls-cert/--tls-key and stops cleanly on SIGTERM', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(made.exitCode).toBe(0);
    const server = await startCacheServer({ storage: `file://${dir}/tls-store`, extraArgs: ['--tls-cert', cert, '--tls-key', key] });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const entry = randomBytes(5000);
      const exchange = (method: string, token: string, body?: Buffer) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          const req = https.request(
            `${server.url}/v1/cache/42`,
            { method, ca: readFileSync(cert), headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Length': body.length } : {}) } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      expect((await exchange('PUT', server.readWriteToken, entry)).status).toBe(200);
      const hit = await exchange('GET', server.readOnlyToken);
      expect(hit.status).toBe(200);
      expect(hit.body.equals(entry)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(server.log()).toContain('SIGTERM, stopping');
  });
});
