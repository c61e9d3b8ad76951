import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { run } from '../../src/util/exec';
import { WORKSPACE_ROOT } from './cache-server';
import { NX_TEST_ENV } from './nx-env';

/**
 * Fresh "clones" of a workspace in temp folders, each with its own empty
 * local Nx cache, and Nx runs in them with or without a remote cache — a CI
 * machine simulated by a folder. Nx comes from this workspace's node_modules
 * through a symlink: no network, and the very Nx the plugin targets.
 */
export interface Clone {
  dir: string;
  /** The clone's own local cache (NX_CACHE_DIRECTORY). */
  cacheDir: string;
}

export interface NxRun {
  exitCode: number;
  /** stdout and stderr together, as a user sees them. */
  output: string;
}

export interface RemoteCache {
  url: string;
  token: string;
}

/** What a fresh clone never has: installed packages, build outputs, caches, scratch. */
export const NOT_IN_A_CLONE = ['node_modules', 'dist', '.nx', 'tmp', 'target', '.git', '.runs'];

/**
 * Copies a workspace (a generated template, or this repository itself) into
 * a new temp folder, leaving out what a fresh checkout would not have
 * (top-level and nested: `packages/x/dist` is left out too).
 */
export async function cloneWorkspace(template: string, name: string, exclude: readonly string[] = NOT_IN_A_CLONE): Promise<Clone> {
  const root = await mkdtemp(join(tmpdir(), `nxm-clone-${name}-`));
  const dir = join(root, 'workspace');
  const skipped = new Set(exclude);
  await cp(template, dir, { recursive: true, filter: (source) => !skipped.has(basename(source)) });
  await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, cacheDir: join(root, 'nx-cache') };
}

export async function removeClone(clone: Clone): Promise<void> {
  await rm(dirname(clone.dir), { recursive: true, force: true });
}

/** Runs `nx <args>` in a clone; `remote` sets the self-hosted cache env, `extraEnv` anything else. */
export async function runNx(clone: Clone, args: string[], remote?: RemoteCache, extraEnv: NodeJS.ProcessEnv = {}): Promise<NxRun> {
  // The outer environment's NX_* settings (a developer's cache folder, a daemon) must not leak in.
  // (The shared Debian package cache is a cache, not a setting: it stays.)
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_') || key === 'NX_MULTIARCH_PACKAGE_CACHE'));
  Object.assign(env, {
    ...NX_TEST_ENV,
    NX_CACHE_DIRECTORY: clone.cacheDir,
    ...(remote ? { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: remote.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: remote.token } : {}),
    ...extraEnv,
  });
  const nx = join(WORKSPACE_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  // Streamed output names each task with its cache source ("[remote cache]"); only task-running commands take the flag.
  const runsTasks = ['run', 'run-many', 'affected'].includes(args[0]) || (args[0] ?? '').includes(':');
  const result = await run(process.execPath, [nx, ...args, ...(runsTasks ? ['--outputStyle=stream'] : [])], { cwd: clone.dir, env, timeoutMs: 600_000 });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
}

/**
 * What Nx printed for one task (`<project>:<target>`): the lines under its
 * last `> nx run <task>` header, up to the next header or Nx's summary. For
 * a task run in a batch (`manifest-push --batch`), where Nx prints the
 * task's output as one block under its header, unprefixed.
 */
export function taskOutput(output: string, task: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const isHeader = (line: string): boolean => line.startsWith('> nx run ');
  const isTaskHeader = (line: string): boolean => line === `> nx run ${task}` || line.startsWith(`> nx run ${task} `);
  const start = lines.map(isTaskHeader).lastIndexOf(true);
  if (start < 0) return '';
  const end = lines.findIndex((line, i) => i > start && (isHeader(line) || line.startsWith(' NX ')));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

export interface ProbeProject {
  name: string;
  /** Projects whose build must run first. */
  dependsOn?: string[];
}

/**
 * A small workspace of projects whose `build` writes `dist/<name>/out.txt`
 * (its cached output) from its source, and appends a line to
 * `.runs/<name>.log` — outside the outputs, so the line appears only when the
 * command really ran, never on a cache hit (Nx replays terminal output on a
 * hit, so output text cannot prove that).
 */
export async function writeProbeWorkspace(dir: string, projects: readonly ProbeProject[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'cache-probe', version: '0.0.0', private: true }, null, 2)}\n`);
  await writeFile(join(dir, 'nx.json'), `${JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json' }, null, 2)}\n`);
  await writeFile(join(dir, '.gitignore'), 'node_modules\ndist\n.runs\n');
  for (const project of projects) {
    const root = `libs/${project.name}`;
    await mkdir(join(dir, root), { recursive: true });
    await writeFile(join(dir, root, 'src.txt'), `source of ${project.name}\n`);
    const command = [
      `mkdir -p dist/${project.name} .runs`,
      `cat ${root}/src.txt > dist/${project.name}/out.txt`,
      `echo ran >> .runs/${project.name}.log`,
      `echo built ${project.name}`,
    ].join(' && ');
    const config = {
      name: project.name,
      root,
      implicitDependencies: project.dependsOn ?? [],
      targets: {
        build: {
          executor: 'nx:run-commands',
          cache: true,
          dependsOn: ['^build'],
          inputs: [`{projectRoot}/**/*`],
          outputs: [`{workspaceRoot}/dist/${project.name}`],
          options: { command },
        },
      },
    };
    await writeFile(join(dir, root, 'project.json'), `${JSON.stringify(config, null, 2)}\n`);
  }
}

/** Which probe projects' commands really ran in a clone. */
export async function projectsThatRan(clone: Clone, names: readonly string[]): Promise<string[]> {
  const ran: string[] = [];
  for (const name of names) {
    const log = await readFile(join(clone.dir, '.runs', `${name}.log`), 'utf8').catch(() => '');
    if (log.trim() !== '') ran.push(name);
  }
  return ran;
}
