import { join, posix } from 'node:path';
import { globToRegExp, matchesAnyGlob } from '../util/path-glob';
import { readCargoManifest, type CargoWorkspace } from './cargo-manifest';
import { ancestorsOf } from './go-module';

/** Whether a `[workspace]` at `workspaceDir` claims the package at `packageDir` (members minus exclude, globs allowed). */
export function workspaceClaims(workspace: CargoWorkspace, workspaceDir: string, packageDir: string): boolean {
  if (workspaceDir === packageDir) return true;
  const inside = posix.relative(workspaceDir, packageDir);
  if (inside === '' || inside.startsWith('..')) return false;
  return matchesAnyGlob(inside, workspace.members.map(globToRegExp)) && !matchesAnyGlob(inside, workspace.exclude.map(globToRegExp));
}

/**
 * The folder of the Cargo workspace a package belongs to (workspace-relative):
 * the nearest Cargo.toml at or above it whose [workspace] claims it, else the
 * package's own folder. Path dependencies, build scripts and Cargo.lock live there.
 */
export function findCargoRoot(workspaceRoot: string, packageDir: string): string {
  for (const dir of ancestorsOf(packageDir)) {
    const workspace = readCargoManifest(join(workspaceRoot, dir, 'Cargo.toml'))?.workspace;
    if (workspace && workspaceClaims(workspace, dir, packageDir)) return dir;
  }
  return packageDir;
}
