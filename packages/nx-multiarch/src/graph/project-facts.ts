import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { TargetConfiguration } from '@nx/devkit';

/**
 * What target inference needs to know about one project folder. Reading the
 * files is kept here; deciding targets (infer-targets.ts) is pure.
 */
export interface ProjectFacts {
  /** Project root relative to the workspace root, POSIX separators ('' for the root). */
  root: string;
  /** Name given by project.json or package.json; undefined when neither names it. */
  declaredName?: string;
  /** Name to give the project when nothing else names it. */
  fallbackName: string;
  /** Targets written in project.json (they win over inferred ones, and give options to per-arch variants). */
  declaredTargets: Record<string, TargetConfiguration>;
  /** A Cargo package with a binary at the root. */
  cargoPackage: boolean;
  /** A Go `package main` at the root. */
  goMain: boolean;
  /** The Go module root (folder of the nearest go.mod at or above root), relative to the workspace. */
  goModuleRoot?: string;
  /** `Dockerfile` at the root. */
  dockerfile: boolean;
  /** Arch integration tests at `<root>/integration/`. */
  integrationTests: boolean;
}

interface ProjectJsonFile {
  name?: string;
  targets?: Record<string, TargetConfiguration>;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A Cargo.toml with a [package] section and a binary (src/main.rs or [[bin]]). */
function hasCargoBinary(absRoot: string): { name?: string } | undefined {
  const manifest = readText(join(absRoot, 'Cargo.toml'));
  if (!manifest || !/^\s*\[package\]/m.test(manifest)) return undefined;
  if (!existsSync(join(absRoot, 'src', 'main.rs')) && !/^\s*\[\[bin\]\]/m.test(manifest)) return undefined;
  const name = /^\s*\[package\][^[]*?^\s*name\s*=\s*"([^"]+)"/m.exec(manifest)?.[1];
  return { name };
}

function hasGoMain(absRoot: string): boolean {
  let files: string[];
  try {
    files = readdirSync(absRoot).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'));
  } catch {
    return false;
  }
  return files.some((f) => /^\s*package\s+main\b/m.test(readText(join(absRoot, f)) ?? ''));
}

function findGoModuleRoot(workspaceRoot: string, root: string): string | undefined {
  let dir = root;
  for (;;) {
    if (existsSync(join(workspaceRoot, dir, 'go.mod'))) return dir;
    if (dir === '' || dir === '.') return undefined;
    const parent = posix.dirname(dir);
    dir = parent === '.' ? '' : parent;
  }
}

export function readProjectFacts(workspaceRoot: string, root: string): ProjectFacts {
  const absRoot = join(workspaceRoot, root);
  const projectJson = readJson<ProjectJsonFile>(join(absRoot, 'project.json'));
  const packageJson = readJson<{ name?: string }>(join(absRoot, 'package.json'));
  const cargo = hasCargoBinary(absRoot);
  const goMain = hasGoMain(absRoot);
  return {
    root,
    declaredName: projectJson?.name ?? packageJson?.name,
    fallbackName: cargo?.name ?? (basename(absRoot) || 'workspace'),
    declaredTargets: projectJson?.targets ?? {},
    cargoPackage: cargo !== undefined,
    goMain,
    goModuleRoot: goMain || projectJson?.targets?.['go-cross'] ? findGoModuleRoot(workspaceRoot, root) : undefined,
    dockerfile: existsSync(join(absRoot, 'Dockerfile')),
    integrationTests: existsSync(join(absRoot, 'integration')),
  };
}

/** Project roots of the matched files: each folder once, in a stable order. */
export function projectRootsOf(files: readonly string[]): string[] {
  const roots = new Set(files.map((f) => {
    const dir = dirname(f).split('\\').join('/');
    return dir === '.' ? '' : dir;
  }));
  return [...roots].sort();
}
