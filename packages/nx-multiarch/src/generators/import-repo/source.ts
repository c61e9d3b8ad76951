import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { Tree } from '@nx/devkit';
import { generatorError } from '../support/generator-error';
import { SKIPPED_FOLDERS } from './repo-files';

/**
 * Where the repository comes from. A folder inside the workspace is imported
 * in place (it was copied or cloned there already). A folder outside is copied
 * into the workspace through the Tree, so `--dry-run` shows every file and
 * writes none.
 */
export interface ResolvedSource {
  /** Workspace-relative folder the projects will live in. */
  repoRoot: string;
  /** Absolute folder files are copied from, when the source is outside the workspace. */
  copyFrom?: string;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/**
 * `source` is resolved against the workspace root (as Nx resolves other
 * generator paths), so the same command works from any folder of the workspace.
 */
export function resolveSource(tree: Tree, source: string, directory: string | undefined, defaultDirectory: string): ResolvedSource {
  if (!source || source.trim() === '') {
    throw generatorError('import-repo needs the repository folder.', 'Pass --source=<folder>: a folder inside the workspace (imported in place) or outside it (copied in).');
  }
  const absolute = resolve(tree.root, source);
  const inside = relative(tree.root, absolute);
  const isInside = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  if (inside === '') {
    throw generatorError('The source is the workspace root itself.', 'Pass the folder of the repository, e.g. --source=packages/linkerd2.');
  }
  if (isInside) {
    const repoRoot = toPosix(inside);
    if (!tree.exists(repoRoot) || tree.isFile(repoRoot)) {
      throw generatorError(`The source folder ${repoRoot} does not exist in the workspace.`, 'Check the path (it is relative to the workspace root), or copy the repository there first.');
    }
    if (directory !== undefined && posix.normalize(toPosix(directory)) !== repoRoot) {
      throw generatorError(
        `The source ${repoRoot} is inside the workspace, so it is imported where it is; --directory=${directory} would move it.`,
        'Drop --directory, or move the folder yourself and pass its new path as --source.',
      );
    }
    return { repoRoot };
  }
  if (relative(absolute, tree.root) === '' || !relative(absolute, tree.root).startsWith('..')) {
    throw generatorError(`The source ${absolute} contains the workspace.`, 'Pass the repository folder itself, outside or inside the workspace, not a parent of the workspace.');
  }
  let isDir = false;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw generatorError(`The source folder ${absolute} does not exist.`, 'Check the path; a relative path is read from the workspace root.');
  const repoRoot = posix.normalize(toPosix(directory ?? defaultDirectory)).replace(/\/+$/, '');
  if (repoRoot === '.' || repoRoot.startsWith('..') || posix.isAbsolute(repoRoot)) {
    throw generatorError(`--directory=${directory} is not a folder inside the workspace.`, 'Pass a workspace-relative folder such as packages/linkerd2.');
  }
  if (tree.exists(repoRoot) && (tree.isFile(repoRoot) || tree.children(repoRoot).length > 0)) {
    throw generatorError(`${repoRoot} already exists in the workspace, so ${basename(absolute)} cannot be copied there.`, 'Pass --directory=<a new folder>, or remove the existing one first.');
  }
  return { repoRoot, copyFrom: absolute };
}

/** Files git would commit (tracked, plus untracked ones not ignored), when the source is a git work tree. */
function gitListedFiles(dir: string): string[] | undefined {
  try {
    const out = execFileSync('git', ['-C', dir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
    return out.toString('utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

function walkedFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) files.push(...walkedFiles(dir, path));
    } else files.push(path);
  }
  return files;
}

/** A file of a repository outside the workspace, to be copied in. */
export interface SourceFile {
  /** Path inside the repository, POSIX separators. */
  path: string;
  absolute: string;
  executable: boolean;
}

/**
 * The files to copy: in a git work tree only what git would commit (no build
 * output); elsewhere every file outside build and dependency folders.
 * Symbolic links are not followed (they could point anywhere); they are
 * returned so the caller can name them.
 */
export function listSourceFiles(from: string): { files: SourceFile[]; skippedLinks: string[] } {
  const listed = gitListedFiles(from) ?? walkedFiles(from);
  const files: SourceFile[] = [];
  const skippedLinks: string[] = [];
  for (const file of [...listed].sort()) {
    const absolute = join(from, file);
    let stat;
    try {
      stat = lstatSync(absolute);
    } catch {
      continue; // listed by git but deleted in the work tree
    }
    if (stat.isSymbolicLink()) skippedLinks.push(toPosix(file));
    else if (stat.isFile()) files.push({ path: toPosix(file), absolute, executable: (stat.mode & 0o111) !== 0 });
  }
  return { files, skippedLinks };
}

export function readSourceFile(file: SourceFile): Buffer {
  return readFileSync(file.absolute);
}

/** Writes the files into the Tree below repoRoot, keeping executable bits. */
export function copyIntoTree(tree: Tree, files: readonly SourceFile[], repoRoot: string): void {
  for (const file of files) {
    tree.write(posix.join(repoRoot, file.path), readSourceFile(file), file.executable ? { mode: 0o755 } : undefined);
  }
}
