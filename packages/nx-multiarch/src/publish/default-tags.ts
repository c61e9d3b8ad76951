import { MultiarchError } from '../errors';
import { projectVersion } from '../project/version';
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
