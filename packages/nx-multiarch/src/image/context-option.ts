import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The `context` option of docker-arch-build:
 *
 * - `"dockerfile"` (the default): the Dockerfile's folder;
 * - `"repository"`: the root of the repository the Dockerfile belongs to, as
 *   real repositories build (`docker buildx build <root> -f <file>`). That is
 *   the nearest folder at or above the Dockerfile's that has a `.git`, below
 *   the workspace root; a repository imported into the workspace has no
 *   `.git` of its own, so failing that it is the outermost folder between
 *   the Dockerfile and the workspace root that holds a `project.json` (the
 *   Nx project of the imported repository), and failing that the workspace
 *   root itself;
 * - anything else: a path, relative to the workspace root.
 */
export type ContextChoice = 'dockerfile' | 'repository' | string;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The repository root of a folder, by the rule above (absolute paths in and
 * out). `exists` is the one file check of the walk: the graph passes one that
 * also records each check, since creating a `.git` or `project.json` moves
 * the root without changing any file the graph's memo hashes.
 */
export function repositoryRoot(workspaceRoot: string, folder: string, exists: (path: string) => boolean = existsSync): string {
  const ws = resolve(workspaceRoot);
  let outermostProject: string | undefined;
  for (let dir = resolve(folder); inside(ws, dir); dir = dirname(dir)) {
    if (exists(join(dir, '.git'))) return dir;
    if (exists(join(dir, 'project.json'))) outermostProject = dir;
  }
  return outermostProject ?? ws;
}

/** The absolute context folder for the option's value (undefined means "dockerfile"). */
export function resolveContextDir(workspaceRoot: string, dockerfilePath: string, choice: ContextChoice | undefined): string {
  const value = (choice ?? 'dockerfile').trim();
  if (value === 'dockerfile') return dirname(dockerfilePath);
  if (value === 'repository') return repositoryRoot(workspaceRoot, dirname(dockerfilePath));
  return isAbsolute(value) ? value : resolve(workspaceRoot, value);
}
