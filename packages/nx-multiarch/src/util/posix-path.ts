import { posix } from 'node:path';

/** Workspace-relative POSIX paths, where '' is the workspace root. */

/** `a/b/c.go` → `a/b`; a file at the workspace root → ''. */
export function dirOf(path: string): string {
  const d = posix.dirname(path);
  return d === '.' ? '' : d;
}

/** Joins workspace-relative parts, treating '' as the workspace root. */
export function joinPath(...parts: string[]): string {
  const joined = posix.join(...parts.filter((p) => p !== ''));
  return joined === '.' ? '' : joined;
}
