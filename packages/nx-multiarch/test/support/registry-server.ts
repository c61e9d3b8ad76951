import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { freePort } from '../../src/integration/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { stopChild } from './server-process';

/**
 * Starts Debian's docker-registry (CNCF distribution 2.8) on a free loopback
 * port with a config written here (the packaged one listens on every
 * interface), storage in a temp folder. Optional TLS, htpasswd Basic auth or
 * Bearer token auth. The caller stops it; it is killed by its own pid.
 */
export interface RegistryServerOptions {
  /** PEM server certificate and key: serve https. */
  tls?: { certFile: string; keyFile: string };
  /** An htpasswd file (bcrypt entries): Basic auth. */
  htpasswdFile?: string;
  /** Bearer token auth: the token server's realm and the cert that signs its tokens. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Reuse a storage folder (e.g. to restart a registry over the same content). */
  storageDir?: string;
  /** Write the registry's own access log (one line per request) to logFile, for tests that count requests. */
  accessLog?: boolean;
  /** Allow `DELETE /v2/<name>/manifests/<digest>` (off by default in distribution, as in production configs). */
  deleteEnabled?: boolean;
}

export interface RegistryServer {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` or `https://…` */
  url: string;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** One request of the registry's access log. */
export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
}

/**
 * The requests in the registry's access log (accessLog: true), in order.
 * Distribution writes them in the combined log format: `"METHOD /path HTTP/1.1" status …`.
 */
export async function readAccessLog(registry: RegistryServer): Promise<AccessLogEntry[]> {
  const text = await readFile(registry.logFile, 'utf8');
  const entries: AccessLogEntry[] = [];
  for (const match of text.matchAll(/"([A-Z]+) (\/v2\/\S*) HTTP\/[0-9.]+" (\d{3})/g)) {
    entries.push({ method: match[1], path: match[2], status: Number(match[3]) });
  }
  return entries;
}

/** The same free-port probe the integration API gives tests. */
export { freePort };

function registryConfig(port: number, storage: string, options: RegistryServerOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    `    disabled: ${options.accessLog ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    ...(options.deleteEnabled ? ['  delete:', '    enabled: true'] : []),
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: nx-multiarch-test-secret',
  ];
  if (options.tls) lines.push('  tls:', `    certificate: ${options.tls.certFile}`, `    key: ${options.tls.keyFile}`);
  if (options.htpasswdFile) lines.push('auth:', '  htpasswd:', '    realm: nx-multiarch-test', `    path: ${options.htpasswdFile}`);
  if (options.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${options.token.rootCertBundle}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Waits until GET /v2/ answers (200, or 401 when auth is on). */
async function waitReady(url: string, child: ChildProcess, logFile: string, ca?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode}: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    const status = await new Promise<number>((resolve) => {
      const module = url.startsWith('https') ? https : http;
      const req = module.get(`${url}/v2/`, { ca, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.setTimeout(1000, () => req.destroy());
    });
    if (status === 200 || status === 401) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer at ${url} within 15 s`);
}

export async function startRegistry(options: RegistryServerOptions = {}, caForReadiness?: string): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nxm-registry-'));
  const storage = options.storageDir ?? join(dir, 'storage');
  const configFile = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  // A port can be taken between the probe and the registry's bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    await writeFile(configFile, registryConfig(port, storage, options));
    const log = openSync(logFile, 'a');
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', log, log] });
    closeSync(log);
    const host = `127.0.0.1:${port}`;
    const url = `${options.tls ? 'https' : 'http'}://${host}`;
    try {
      await waitReady(url, child, logFile, caForReadiness);
    } catch (error) {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (attempt === 4) throw error;
      continue;
    }
    const stop = async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    };
    return { host, port, url, dir, logFile, stop };
  }
  throw new Error('could not start docker-registry');
}
