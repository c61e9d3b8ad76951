import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The paths whose existence target inference checked on disk, and what it
 * found (workspace-relative, POSIX separators). A file's existence is no
 * content Nx hashes for the createNodes memo, so the memo keeps these next
 * to each result and re-checks them before reusing it. Every other input of
 * the probing (the Dockerfile that names the paths) is in the memo key, so
 * while every recorded answer still holds, inference would make the same
 * probes and find the same answers: the check is exact, and costs one stat
 * per probe instead of reading the project's files.
 */
export type ExistenceProbes = Record<string, boolean>;

/** existsSync, recording the answer when `probes` is given. */
export function probeExists(workspaceRoot: string, absPath: string, probes: ExistenceProbes | undefined): boolean {
  const exists = existsSync(absPath);
  if (probes) probes[relative(workspaceRoot, absPath).split(sep).join('/')] = exists;
  return exists;
}

/** Whether every recorded probe still finds what it found. */
export function probesHold(workspaceRoot: string, probes: ExistenceProbes): boolean {
  return Object.entries(probes).every(([path, exists]) => existsSync(join(workspaceRoot, path)) === exists);
}
