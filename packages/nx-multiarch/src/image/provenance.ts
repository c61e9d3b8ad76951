import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { epochToRfc3339 } from '../dockerfile/evaluate-stage';
import { sourceDateEpoch as sourceDateEpochFromEnv } from '../util/source-date-epoch';

/**
 * Where an image says it comes from: the standard org.opencontainers.image.*
 * labels (source, revision, version, created) and the timestamp written into
 * the config, history and file mtimes. Everything here is derived from
 * options, the workspace's files and environment variables Nx hashes
 * (SOURCE_DATE_EPOCH, NX_MULTIARCH_REVISION) — never from the clock, the
 * checkout path or git's HEAD, which Nx does not hash: an image restored from
 * the cache must be byte for byte the image a fresh build would give.
 */

/** The commit to name in org.opencontainers.image.revision: the option, else NX_MULTIARCH_REVISION. */
export function resolveRevision(option: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = option ?? env.NX_MULTIARCH_REVISION;
  return value && value.trim() !== '' ? value.trim() : undefined;
}

/** The build timestamp: the option, else SOURCE_DATE_EPOCH, else 0 (1970, as ko does). */
export async function resolveSourceDateEpoch(option: number | string | undefined, env: NodeJS.ProcessEnv): Promise<number> {
  if (option !== undefined && option !== '') {
    const text = String(option).trim();
    if (!/^\d+$/.test(text)) {
      throw new MultiarchError(`sourceDateEpoch "${option}" is not a whole number of seconds.`, 'Give seconds since 1970, e.g. 1700000000.');
    }
    return Number(text);
  }
  return sourceDateEpochFromEnv(env);
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
