import { posix } from 'node:path';
import type { Tree } from '@nx/devkit';
import { globToRegExp, matchesAnyGlob } from '../../util/path-glob';

/**
 * The files of the repository being imported, by workspace-relative POSIX
 * path: read from the Tree for a repository inside the workspace, or from the
 * outside folder before it is copied in (so nothing is written until the
 * import is known to succeed).
 */
export interface RepoFiles {
  /** Workspace-relative folder of the repository. */
  root: string;
  /** Every file below root that is scanned, sorted. */
  files: string[];
  has(path: string): boolean;
  read(path: string): string;
}

/** Folders that hold build output, dependencies or VCS data: never part of a project's sources. */
export const SKIPPED_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules', 'target', 'dist', '.nx', '.nx-multiarch']);

/** Repository files from a list of workspace-relative paths, without skipped folders and excluded globs. */
export function repoFilesFrom(root: string, paths: readonly string[], read: (path: string) => string, exclude: readonly string[] = []): RepoFiles {
  const excluded = exclude.map(globToRegExp);
  const kept = paths.filter((path) => {
    const inside = posix.relative(root, path);
    const segments = inside.split('/');
    if (segments.slice(0, -1).some((s) => SKIPPED_FOLDERS.has(s))) return false;
    // A glob excludes a file, or a folder and everything below it.
    return !segments.some((_, i) => matchesAnyGlob(segments.slice(0, i + 1).join('/'), excluded));
  });
  kept.sort();
  const set = new Set(kept);
  return { root, files: kept, has: (path) => set.has(path), read };
}

/** The repository's files as the Tree has them. */
export function listRepoFiles(tree: Tree, root: string, exclude: readonly string[] = []): RepoFiles {
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const name of tree.children(dir)) {
      const path = dir === '' ? name : `${dir}/${name}`;
      if (tree.isFile(path)) paths.push(path);
      else if (!SKIPPED_FOLDERS.has(name)) walk(path);
    }
  };
  walk(root);
  return repoFilesFrom(root, paths, (path) => tree.read(path, 'utf-8') ?? '', exclude);
}

export { dirOf, joinPath } from '../../util/posix-path';
