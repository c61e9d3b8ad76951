import { existsSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { joinPath } from '../util/posix-path';
import { readGoMod } from './go-module';
import { embedPatterns, goImports, goPackageName, ignoredByGo, isGoBuildFile, isMainPackage } from './go-source';

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

/** The packages of one module a main package compiles, and what they embed. */
export interface MainPackageClosure {
  /** Workspace-relative folders: the main's own and each package of the module it imports, directly or not; sorted. */
  packageDirs: string[];
  /** The `//go:embed` patterns of those packages, workspace-relative, sorted. */
  embeds: string[];
}

/**
 * The folders of the module at `moduleRoot` whose files the main package at
 * `mainDir` compiles: followed through the imports that start with the
 * module's path. Every build file of a folder is read, whatever its build
 * constraints, so a file one arch compiles is never missed (a file the arch
 * skips costs a rebuild, not a wrong cache hit).
 *
 * Undefined, so the caller keeps the whole module as input, where the module
 * is not what the imports alone say: no module path in go.mod, a vendor
 * folder (the dependencies' sources are in the module), or an import of the
 * module's path that names no folder of it (a nested module, or a replace).
 */
export function mainPackageClosure(workspaceRoot: string, moduleRoot: string, mainDir: string): MainPackageClosure | undefined {
  const modulePath = readGoMod(join(workspaceRoot, moduleRoot))?.modulePath;
  if (modulePath === undefined || existsSync(join(workspaceRoot, moduleRoot, 'vendor'))) return undefined;
  const seen = new Set<string>([mainDir]);
  const embeds = new Set<string>();
  const queue = [mainDir];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    let names: string[];
    try {
      names = readdirSync(join(workspaceRoot, dir));
    } catch {
      return undefined;
    }
    if (dir !== moduleRoot && names.includes('go.mod')) return undefined;
    for (const name of names.filter(isGoBuildFile)) {
      const source = readText(join(workspaceRoot, dir, name));
      if (goPackageName(source) === undefined) continue;
      for (const pattern of embedPatterns(source)) embeds.add(joinPath(dir, pattern));
      for (const path of goImports(source)) {
        if (path !== modulePath && !path.startsWith(`${modulePath}/`)) continue;
        const imported = joinPath(moduleRoot, path.slice(modulePath.length + 1));
        if (!seen.has(imported)) {
          seen.add(imported);
          queue.push(imported);
        }
      }
    }
  }
  return { packageDirs: [...seen].sort(), embeds: [...embeds].sort() };
}
