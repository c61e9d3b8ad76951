import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { execFile } from 'node:child_process';
import { epochToRfc3339 } from './evaluate-stage';
import { sourceDateEpoch as sourceDateEpochFromEnv } from './source-date-epoch';

/**
 * Where an image says it comes from: the standard org.opencontainers.image.*
 * labels (source, revision, version, created) and the timestamp written into
 * the config, history and file mtimes. Everything here is derived from the
 * commit and the workspace's files, never from the clock or the checkout path,
 * so two clones of one commit label their images identically.
 */

/**
 * Output of a git command, or undefined when git is missing or fails (not a
 * repository: the labels it would give are left out). execFile, not
 * util/exec's run: run writes to the child's stdin, which fails with EPIPE
 * when git exits before reading it.
 */
function git(workspaceRoot: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: workspaceRoot, timeout: 10_000 }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim() || undefined);
    });
  });
}

export function gitRevision(workspaceRoot: string): Promise<string | undefined> {
  return git(workspaceRoot, ['rev-parse', 'HEAD']);
}

/**
 * The build timestamp: the option, else SOURCE_DATE_EPOCH, else the commit
 * time of HEAD, else 0.
 */
export async function resolveSourceDateEpoch(option: number | string | undefined, env: NodeJS.ProcessEnv, workspaceRoot: string): Promise<number> {
  if (option !== undefined && option !== '') {
    const text = String(option).trim();
    if (!/^\d+$/.test(text)) {
      throw new MultiarchError(`sourceDateEpoch "${option}" is not a whole number of seconds.`, 'Give seconds since 1970, e.g. 1700000000.');
    }
    return Number(text);
  }
  if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH.trim() !== '') return sourceDateEpochFromEnv(env);
  const commitTime = await git(workspaceRoot, ['log', '-1', '--format=%ct']);
  return commitTime && /^\d+$/.test(commitTime) ? Number(commitTime) : 0;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `version = "…"` of the [package] table of a Cargo.toml (the one key needed, not a TOML parser). */
function cargoPackageVersion(text: string): string | undefined {
  let inPackage = false;
  for (const line of text.split(/\r?\n/)) {
    const table = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (table) {
      inPackage = table[1].trim() === 'package';
      continue;
    }
    const version = inPackage ? /^\s*version\s*=\s*"([^"]+)"/.exec(line) : null;
    if (version) return version[1];
  }
  return undefined;
}

/** The option, else the project's package.json version, else its Cargo.toml [package] version. */
export async function projectVersion(workspaceRoot: string, projectRoot: string, option?: string): Promise<string | undefined> {
  if (option) return option;
  const pkg = await readJson(join(workspaceRoot, projectRoot, 'package.json'));
  if (typeof pkg?.version === 'string') return pkg.version;
  const cargo = await readFile(join(workspaceRoot, projectRoot, 'Cargo.toml'), 'utf8').catch(() => undefined);
  return cargo ? cargoPackageVersion(cargo) : undefined;
}

/** The option, else the `repository` of the workspace's package.json (never a git remote: it may carry credentials or a local path). */
export async function sourceUrl(workspaceRoot: string, option?: string): Promise<string | undefined> {
  if (option) return option;
  const pkg = await readJson(join(workspaceRoot, 'package.json'));
  const repository = pkg?.repository;
  if (typeof repository === 'string') return repository;
  if (repository && typeof repository === 'object' && typeof (repository as { url?: unknown }).url === 'string') {
    return (repository as { url: string }).url;
  }
  return undefined;
}

export interface StandardLabelInputs {
  source?: string;
  revision?: string;
  version?: string;
  sourceDateEpoch: number;
}

/** The org.opencontainers.image.* labels for an image; unknown values are left out. */
export function standardLabels(inputs: StandardLabelInputs): Record<string, string> {
  return {
    ...(inputs.source ? { 'org.opencontainers.image.source': inputs.source } : {}),
    ...(inputs.revision ? { 'org.opencontainers.image.revision': inputs.revision } : {}),
    ...(inputs.version ? { 'org.opencontainers.image.version': inputs.version } : {}),
    'org.opencontainers.image.created': epochToRfc3339(inputs.sourceDateEpoch),
  };
}
