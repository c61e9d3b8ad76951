import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Deadline } from './deadline';

/**
 * A verdaccio registry on loopback for one test run: storage and config in a
 * temporary folder, the plugin published to it only (never proxied), every
 * other package proxied to the registry npm is configured with on this
 * machine, read at run time.
 */
export interface LocalRegistry {
  url: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Verdaccio's config.yaml, the parts used here (JSON is valid YAML). */
interface VerdaccioConfig {
  storage: string;
  auth: { htpasswd: { file: string; max_users: number } };
  uplinks: Record<string, { url: string; timeout: string; max_fails: number }>;
  packages: Record<string, { access: string; publish: string; unpublish?: string; proxy?: string }>;
  max_body_size: string;
  web: { enable: boolean };
  log: { type: 'stdout'; format: 'pretty'; level: 'warn' | 'info' | 'http' };
}

export const LOCAL_PACKAGE = 'nx-multiarch';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function verdaccioBin(): string {
  const pkg = require.resolve('verdaccio/package.json');
  const { bin } = JSON.parse(readFileSync(pkg, 'utf8')) as { bin: string };
  return join(dirname(pkg), bin);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One HTTP request without keep-alive (a pooled socket would outlive the
 * test and hold Jest open), bounded in time.
 */
function request(url: string, method: 'GET' | 'PUT', body: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, timeout: timeoutMs, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function pingUntilUp(url: string, child: ChildProcess, deadline: Deadline, logFile: string): Promise<void> {
  const giveUp = Date.now() + deadline.limit(60_000, 'verdaccio start');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode} while starting:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      if ((await request(`${url}/-/ping`, 'GET', undefined, 2000)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > giveUp) throw new Error(`verdaccio did not answer ${url}/-/ping in time:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    await sleep(250);
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // Only the process this test started, by its own handle.
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2000)]);
    }
  };
}

export async function startRegistry(dir: string, uplinkUrl: string, deadline: Deadline): Promise<LocalRegistry> {
  const config: VerdaccioConfig = {
    storage: join(dir, 'storage'),
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 1 } },
    uplinks: { npmjs: { url: uplinkUrl, timeout: '60s', max_fails: 5 } },
    packages: {
      // Published here by the test, never looked up upstream.
      [LOCAL_PACKAGE]: { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
      '**': { access: '$all', publish: '$authenticated', proxy: 'npmjs' },
    },
    max_body_size: '200mb',
    web: { enable: false },
    log: { type: 'stdout', format: 'pretty', level: 'warn' },
  };
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = join(dir, 'verdaccio.log');

  // A free port can be taken between choosing and listening: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, [verdaccioBin(), '--config', configFile, '--listen', `127.0.0.1:${port}`], {
      cwd: dir,
      stdio: ['ignore', log, log],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    closeSync(log);
    try {
      await pingUntilUp(url, child, deadline, logFile);
      return { url, port, logFile, stop: stopper(child) };
    } catch (error) {
      lastError = error;
      await stopper(child)();
    }
  }
  throw lastError;
}

/** Creates the one user htpasswd allows and returns its token, as `npm adduser` would. */
export async function addUser(url: string, name: string, password: string): Promise<string> {
  const res = await request(
    `${url}/-/user/org.couchdb.user:${encodeURIComponent(name)}`,
    'PUT',
    JSON.stringify({ name, password, type: 'user', roles: [], date: new Date(0).toISOString() }),
    30_000,
  );
  const body = JSON.parse(res.text) as { token?: string; error?: string };
  if (res.status !== 201 || !body.token) throw new Error(`verdaccio refused to create user ${name}: ${res.status} ${body.error ?? ''}`);
  return body.token;
}
