import { posix } from 'node:path';
import { parseGoMod } from '../../project/go-module';
import { embedPatterns, goBinaryName, goPackageName, ignoredByGo, isGoBuildFile } from '../../project/go-source';
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

export function findGoMains(repo: RepoFiles): GoMain[] {
  const modules = new Map<string, string>();
  for (const file of repo.files) {
    if (posix.basename(file) !== 'go.mod') continue;
    const modulePath = parseGoMod(repo.read(file)).modulePath;
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
    if (!isGoBuildFile(file)) continue;
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
