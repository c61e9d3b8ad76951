import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * The [[package]] entries of a Cargo.lock: name, version, source and the
 * crates.io checksum. Only the keys the SBOM needs are read, so this is a
 * line reader for the fixed format cargo writes, not a TOML parser.
 */
export interface CargoLockPackage {
  name: string;
  version: string;
  /** The registry the crate came from (`registry+<index>`); absent for workspace members. */
  source?: string;
  /** sha256 of the .crate file (hex). */
  checksum?: string;
}

export function parseCargoLock(text: string): CargoLockPackage[] {
  const packages: CargoLockPackage[] = [];
  let current: Partial<CargoLockPackage> | undefined;
  const flush = (): void => {
    if (current?.name && current.version) packages.push(current as CargoLockPackage);
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*\[\[package\]\]\s*$/.test(line)) {
      flush();
      current = {};
      continue;
    }
    if (/^\s*\[/.test(line)) {
      flush();
      continue;
    }
    const kv = /^\s*(name|version|source|checksum)\s*=\s*"([^"]*)"/.exec(line);
    if (kv && current) current[kv[1] as keyof CargoLockPackage] = kv[2];
  }
  flush();
  return packages;
}

/** The Cargo.lock that governs a project: in its root or the nearest folder above, up to the workspace root. */
export async function findCargoLock(workspaceRoot: string, projectRoot: string): Promise<{ path: string; text: string } | undefined> {
  let dir = join(workspaceRoot, projectRoot);
  for (;;) {
    const text = await readFile(join(dir, 'Cargo.lock'), 'utf8').catch(() => undefined);
    if (text !== undefined) return { path: relative(workspaceRoot, join(dir, 'Cargo.lock')).split(sep).join('/'), text };
    const rel = relative(workspaceRoot, dir);
    if (rel === '' || rel.startsWith('..')) return undefined;
    dir = dirname(dir);
  }
}
