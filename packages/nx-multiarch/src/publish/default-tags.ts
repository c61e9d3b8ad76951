import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { run } from '../util/exec';

/**
 * Default tags of a project's image: its version (package.json, else
 * Cargo.toml), else `latest`; optionally `git-<8 hex>` of the checked-out
 * commit (Linkerd tags development images `git-<sha>` the same way).
 */

/** A semver build suffix (`+abc`) is not allowed in a tag; Docker users write `_` instead. */
export function versionToTag(version: string): string {
  return version.trim().replace(/\+/g, '_');
}

/** `version` of the `[package]` table of a Cargo.toml, when written as a plain string. */
export function cargoPackageVersion(toml: string): string | undefined {
  let section = '';
  for (const raw of toml.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    if (section !== 'package') continue;
    const match = /^version\s*=\s*"([^"]+)"$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

export async function projectVersion(projectDir: string): Promise<string | undefined> {
  const pkg = await readText(join(projectDir, 'package.json'));
  if (pkg) {
    try {
      const version = (JSON.parse(pkg) as { version?: unknown }).version;
      if (typeof version === 'string' && version.trim() !== '' && version !== '0.0.0') return version;
    } catch {
      // Not our file to judge: fall through to Cargo.toml.
    }
  }
  const cargo = await readText(join(projectDir, 'Cargo.toml'));
  return cargo ? cargoPackageVersion(cargo) : undefined;
}

export async function gitShaTag(workspaceRoot: string): Promise<string> {
  const result = await run('git', ['rev-parse', 'HEAD'], { cwd: workspaceRoot });
  const sha = result.stdout.trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha)) {
    throw new MultiarchError('gitShaTag is on, but the commit could not be read (git rev-parse HEAD failed).', 'Run in a git checkout, or turn gitShaTag off.');
  }
  return `git-${sha.slice(0, 8)}`;
}

export async function defaultTags(projectDir: string): Promise<string[]> {
  const version = await projectVersion(projectDir);
  return [version ? versionToTag(version) : 'latest'];
}
