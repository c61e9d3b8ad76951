import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { joinPath } from '../util/posix-path';
import { embedPatterns, goPackageName, ignoredByGo, isGoBuildFile, isMainPackage } from './go-source';

/**
 * Go facts read from a workspace's file system, for graph inference (import-repo
 * reads the same facts from its Tree through go-source.ts).
 */

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether the folder (workspace-relative) is a Go main package. */
export function isMainPackageDir(workspaceRoot: string, dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(join(workspaceRoot, dir));
  } catch {
    return false;
  }
  return isMainPackage(names.map((name) => ({ name, read: () => readText(join(workspaceRoot, dir, name)) })));
}

/**
 * The `//go:embed` patterns of every package of the module at `moduleRoot`,
 * workspace-relative and sorted. Walks the module as `go build` sees it:
 * nested modules, testdata, vendor and `_`/`.` folders are not part of it;
 * node_modules is skipped too (a Go module at the root of a JavaScript
 * workspace keeps no Go code there, and it is large).
 */
export function moduleEmbeds(workspaceRoot: string, moduleRoot: string): string[] {
  const embeds = new Set<string>();
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(workspaceRoot, dir), { withFileTypes: true });
    } catch {
      return;
    }
    if (dir !== moduleRoot && entries.some((e) => e.isFile() && e.name === 'go.mod')) return;
    for (const entry of entries) {
      const path = joinPath(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !ignoredByGo(path, moduleRoot)) walk(path);
      } else if (entry.isFile() && isGoBuildFile(entry.name)) {
        const source = readText(join(workspaceRoot, path));
        if (goPackageName(source) === undefined) continue;
        for (const pattern of embedPatterns(source)) embeds.add(joinPath(dir, pattern));
      }
    }
  };
  walk(moduleRoot);
  return [...embeds].sort();
}
