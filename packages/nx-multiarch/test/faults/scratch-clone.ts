import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NX_TEST_ENV } from '../support/nx-env';

/**
 * Scratch clones of this workspace for tests that run real `nx` commands:
 * `git clone` of the committed state into a temp folder (never the real
 * checkout's files), node_modules linked from this checkout (so Nx and the
 * compiled plugin are this checkout's), an empty Nx cache of its own, and a
 * system temporary directory of its own (TMPDIR), so what its runs leave
 * there can be counted.
 */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');
export const BIN = join(WORKSPACE_ROOT, 'packages', 'nx-multiarch', 'bin', 'nx-multiarch.js');
const NX = join(WORKSPACE_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');

export interface ScratchClone {
  root: string;
  dir: string;
  cacheDir: string;
  /** TMPDIR of the clone's Nx runs. */
  tmpDir: string;
}

export interface CommandResult {
  code: number;
  output: string;
}

export function exec(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(command, [...args], { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

export async function scratchClone(name: string): Promise<ScratchClone> {
  const root = await mkdtemp(join(tmpdir(), `nxm-${name}-`));
  const dir = join(root, 'workspace');
  const cloned = await exec('git', ['clone', '--quiet', '--no-hardlinks', WORKSPACE_ROOT, dir], root);
  if (cloned.code !== 0) throw new Error(`git clone failed: ${cloned.output}`);
  await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tmpDir = join(root, 'tmp');
  await mkdir(tmpDir);
  return { root, dir, cacheDir: join(root, 'nx-cache'), tmpDir };
}

export async function removeScratchClone(clone: ScratchClone | undefined): Promise<void> {
  if (clone) await rm(clone.root, { recursive: true, force: true });
}

/** The environment of an Nx run in a clone: the tests' Nx settings, its own cache, nothing NX_* from outside. */
export function nxEnv(clone: ScratchClone, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_') && key !== 'SOURCE_DATE_EPOCH'));
  return { ...env, ...NX_TEST_ENV, NX_CACHE_DIRECTORY: clone.cacheDir, TMPDIR: clone.tmpDir, ...extra };
}

export function nx(clone: ScratchClone, args: readonly string[], extra: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<CommandResult> {
  // Task runs take an output style; generators refuse options their schema lacks.
  const style = ['run', 'run-many', 'affected'].includes(args[0]) ? ['--outputStyle=static'] : [];
  return exec(process.execPath, [NX, ...args, ...style], clone.dir, nxEnv(clone, extra), timeoutMs);
}

let compiled: Promise<void> | undefined;

/** Executors and the bin run the compiled plugin (dist/): compile it once per test file, as `npm run build:plugin` does. */
export function buildPlugin(): Promise<void> {
  compiled ??= (async () => {
    const tsc = join(WORKSPACE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-b', join(WORKSPACE_ROOT, 'packages', 'nx-multiarch', 'tsconfig.lib.json')], WORKSPACE_ROOT);
    if (result.code !== 0) throw new Error(`tsc -b of the plugin failed:\n${result.output}`);
  })();
  return compiled;
}
