import { posix } from 'node:path';
import { dirOf, joinPath, type RepoFiles } from './repo-files';

/** A Go `package main` folder: one binary that go-cross builds. */
export interface GoMain {
  /** Workspace-relative folder of the main package. */
  dir: string;
  /** Workspace-relative folder of its module (the nearest go.mod at or above dir). */
  moduleRoot: string;
  modulePath: string;
  /** The binary's file name, as `go build` names it. */
  binaryName: string;
  /** `//go:embed` patterns of the module, workspace-relative: files a binary may carry. */
  embeds: string[];
}

/** Go ignores folders named testdata or vendor, and those starting with `_` or `.`. */
function ignoredByGo(dir: string, moduleRoot: string): boolean {
  const inside = posix.relative(moduleRoot, dir);
  return inside !== '' && inside.split('/').some((s) => s === 'testdata' || s === 'vendor' || s.startsWith('_') || s.startsWith('.'));
}

/** The package name of a Go file, or undefined for a file excluded from every build (`//go:build ignore`). */
export function goPackageName(source: string): string | undefined {
  const clause = /^package\s+([A-Za-z_]\w*)/m.exec(source);
  if (!clause) return undefined;
  const header = source.slice(0, clause.index);
  if (/^\/\/go:build\s+ignore\s*$/m.test(header) || /^\/\/\s*\+build\s+ignore\s*$/m.test(header)) return undefined;
  return clause[1];
}

/** `v2`, `v3`…: a major-version path element (v0 and v1 never are). */
function isVersionElement(s: string): boolean {
  return /^v\d+$/.test(s) && s !== 'v0' && s !== 'v1' && !s.startsWith('v0');
}

/** Go's default executable name: the last import path element, skipping a major-version suffix. */
export function goBinaryName(importPath: string): string {
  const elements = importPath.split('/');
  const last = elements[elements.length - 1];
  return elements.length > 1 && isVersionElement(last) ? elements[elements.length - 2] : last;
}

/** `//go:embed a b "c d"` → ['a', 'b', 'c d'] (an `all:` prefix dropped). */
function embedPatterns(source: string): string[] {
  const patterns: string[] = [];
  for (const match of source.matchAll(/^\/\/go:embed\s+(.+)$/gm)) {
    for (const word of match[1].match(/"[^"]*"|`[^`]*`|\S+/g) ?? []) {
      patterns.push(word.replace(/^["`]|["`]$/g, '').replace(/^all:/, ''));
    }
  }
  return patterns;
}

export function findGoMains(repo: RepoFiles): GoMain[] {
  const modules = new Map<string, string>();
  for (const file of repo.files) {
    if (posix.basename(file) !== 'go.mod') continue;
    const modulePath = /^module\s+("?)([^\s"]+)\1/m.exec(repo.read(file))?.[2];
    if (modulePath) modules.set(dirOf(file), modulePath);
  }
  const moduleOf = (dir: string): string | undefined => {
    for (let d = dir; ; d = dirOf(d)) {
      if (modules.has(d)) return d;
      if (d === '' || d === repo.root) return undefined;
    }
  };

  const mainDirs = new Set<string>();
  const embedsByModule = new Map<string, Set<string>>();
  for (const file of repo.files) {
    if (!file.endsWith('.go') || file.endsWith('_test.go')) continue;
    const dir = dirOf(file);
    const moduleRoot = moduleOf(dir);
    if (moduleRoot === undefined || ignoredByGo(dir, moduleRoot)) continue;
    const source = repo.read(file);
    const name = goPackageName(source);
    if (name === undefined) continue;
    if (name === 'main') mainDirs.add(dir);
    const embeds = embedsByModule.get(moduleRoot) ?? new Set<string>();
    for (const pattern of embedPatterns(source)) embeds.add(joinPath(dir, pattern));
    embedsByModule.set(moduleRoot, embeds);
  }

  return [...mainDirs].sort().map((dir) => {
    const moduleRoot = moduleOf(dir) as string;
    const modulePath = modules.get(moduleRoot) as string;
    const inside = posix.relative(moduleRoot, dir);
    return {
      dir,
      moduleRoot,
      modulePath,
      binaryName: goBinaryName(inside === '' ? modulePath : `${modulePath}/${inside}`),
      embeds: [...(embedsByModule.get(moduleRoot) ?? [])].sort(),
    };
  });
}
