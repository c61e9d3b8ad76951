import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/util/exec';
import { stopChild, waitForStdout } from './server-process';

/**
 * Starts and stops `nx-multiarch cache-server` as a user runs it: the bin of
 * the package, in its own process, with tokens handed over by environment
 * variables. The URL comes from the one line the command prints on stdout.
 */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');
export const WORKSPACE_ROOT = resolve(PACKAGE_ROOT, '..', '..');
export const BIN = join(PACKAGE_ROOT, 'bin', 'nx-multiarch.js');

export interface CacheServerProcess {
  /** `http://127.0.0.1:<port>`: the value of NX_SELF_HOSTED_REMOTE_CACHE_SERVER. */
  url: string;
  readWriteToken: string;
  readOnlyToken: string;
  /** The --storage it was started with. */
  storage: string;
  pid: number;
  /** Everything the server wrote to stderr so far (its request log). */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

export interface StartCacheServerOptions {
  /** file://<dir> or oci://<host:port>/<repository> */
  storage: string;
  /** Reuse tokens (e.g. a second server over the same store); new random ones by default. */
  readWriteToken?: string;
  readOnlyToken?: string;
  extraArgs?: string[];
}

export function newToken(kind: 'rw' | 'ro'): string {
  return `${kind}-${randomBytes(24).toString('hex')}`;
}

export async function startCacheServer(options: StartCacheServerOptions): Promise<CacheServerProcess> {
  await ensurePluginBuilt();
  const readWriteToken = options.readWriteToken ?? newToken('rw');
  const readOnlyToken = options.readOnlyToken ?? newToken('ro');
  const logFile = join(tmpdir(), `nxm-cache-server-${process.pid}-${randomBytes(4).toString('hex')}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      BIN,
      'cache-server',
      '--storage',
      options.storage,
      '--port',
      '0',
      '--read-write-token-env',
      'NXM_TEST_CACHE_RW',
      '--read-only-token-env',
      'NXM_TEST_CACHE_RO',
      ...(options.extraArgs ?? []),
    ],
    { env: { ...process.env, NXM_TEST_CACHE_RW: readWriteToken, NXM_TEST_CACHE_RO: readOnlyToken }, stdio: ['ignore', 'pipe', log] },
  );
  closeSync(log);
  // Once the server is stopped its log is kept in memory and the file removed, so the suite leaves no logs behind.
  let finalLog: string | undefined;
  const readLog = () => {
    if (finalLog !== undefined) return finalLog;
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const keepLogInMemory = () => {
    finalLog = readLog();
    rmSync(logFile, { force: true });
  };
  const url = await firstLine(child, 15_000, readLog).catch((error: unknown) => {
    keepLogInMemory();
    throw error;
  });
  return {
    url,
    readWriteToken,
    readOnlyToken,
    storage: options.storage,
    pid: child.pid ?? 0,
    log: readLog,
    stop: async () => {
      await stopChild(child);
      keepLogInMemory();
    },
  };
}

function firstLine(child: ChildProcess, timeoutMs: number, readLog: () => string): Promise<string> {
  return waitForStdout(
    child,
    (text) => {
      const newline = text.indexOf('\n');
      return newline >= 0 ? text.slice(0, newline).trim() : undefined;
    },
    timeoutMs,
    (reason) => {
      if (reason !== 'timeout') return new Error(`cache-server exited with ${reason} before listening:\n${readLog()}`);
      child.kill('SIGKILL');
      return new Error(`cache-server printed no URL within ${timeoutMs} ms:\n${readLog()}`);
    },
  );
}

let built: Promise<void> | undefined;

/**
 * The bin runs the compiled plugin (dist/), so build it once per test file
 * exactly as `npm run build:plugin` does (tsc -b: it skips files whose
 * content did not change). A plugin that does not compile fails the test.
 */
export function ensurePluginBuilt(): Promise<void> {
  built ??= (async () => {
    const tsc = join(WORKSPACE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-b', join(PACKAGE_ROOT, 'tsconfig.lib.json')], { cwd: WORKSPACE_ROOT });
    if (result.exitCode !== 0) throw new Error(`npm run build:plugin (tsc -b) failed:\n${result.stdout}${result.stderr}`);
    await stat(join(PACKAGE_ROOT, 'dist', 'cache-server', 'cli.js'));
  })();
  return built;
}

/** Entries a file:// store holds (one record per Nx hash). */
export async function fileStoreEntries(dir: string): Promise<string[]> {
  return readdir(join(dir, 'entries')).catch(() => []);
}

/** The bytes of one entry record, for tests that damage a store on purpose. */
export async function fileStoreRecord(dir: string, hash: string): Promise<{ digest: string; size: number }> {
  return JSON.parse(await readFile(join(dir, 'entries', hash), 'utf8')) as { digest: string; size: number };
}
