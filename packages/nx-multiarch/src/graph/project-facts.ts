import { existsSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { parseDockerfile } from '../dockerfile/parse';
import { repositoryRoot } from '../image/context-option';
import type { TargetConfiguration } from '@nx/devkit';
import { cargoBinaries, readCargoManifest } from '../project/cargo-manifest';
import { findCargoRoot } from '../project/cargo-workspace';
import { findGoModuleRoot } from '../project/go-module';
import { isMainPackageDir, mainPackageClosure, moduleEmbeds, type MainPackageClosure } from '../project/go-module-files';
import { dockerfileUrls } from '../dockerfile/download-map';
import { probeExists, type ExistenceProbes } from './existence-probes';

/**
 * What target inference needs to know about one project folder. Reading the
 * files is kept here (through the readers of project/, which import-repo
 * shares); deciding targets (infer-targets.ts) is pure.
 */
export interface ProjectFacts {
  /** Project root relative to the workspace root, POSIX separators ('' for the root). */
  root: string;
  /** A project.json at the root (import-repo writes one for every project it configures). */
  hasProjectJson: boolean;
  /** Name given by project.json or package.json; undefined when neither names it. */
  declaredName?: string;
  /** Name to give the project when nothing else names it. */
  fallbackName: string;
  /** Targets written in project.json (they win over inferred ones, and give options to per-arch variants). */
  declaredTargets: Record<string, TargetConfiguration>;
  /** A Cargo package with a binary at the root. */
  cargoPackage: boolean;
  /** Folder of the Cargo workspace the package belongs to (its root when it stands alone). */
  cargoRoot?: string;
  /** A Go `package main` at the root (files under `//go:build ignore` do not count). */
  goMain: boolean;
  /** The Go module root (folder of the nearest go.mod at or above root), relative to the workspace. */
  goModuleRoot?: string;
  /** `//go:embed` patterns of the module's packages, workspace-relative. */
  goEmbeds: string[];
  /** For a main package below its module's root: the module's packages it compiles (its go-cross inputs). */
  goPackages?: MainPackageClosure;
  /** `Dockerfile` at the root. */
  dockerfile: boolean;
  /**
   * The build context the Dockerfile needs, when it is not its own folder:
   * `repository` when its COPY sources are not all in the Dockerfile's folder
   * but are all in the repository root (context-option.ts), as in
   * repositories that build with `docker buildx build <root> -f <file>`.
   */
  dockerContext?: 'repository';
  /**
   * The Dockerfile may pull a base image: a final FROM other than `scratch` (or a
   * Dockerfile elsewhere, named by the target's dockerfile option, which is
   * not read here). Such an image hashes the digests its bases name now.
   */
  dockerfileHasBase?: boolean;
  /** URLs written in the Dockerfile (variables as written): what a downloads mapping may serve from a workspace package. */
  dockerfileUrls?: string[];
  /** Arch integration tests: a `*.arch.test.ts` file below `<root>/integration/` (an `integration/` folder alone is not one). */
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

/** Files below a package's src/, as cargoBinaries takes them (main.rs, bin/x.rs, bin/y/main.rs). */
function cargoSrcFiles(absRoot: string): string[] {
  const files: string[] = [];
  if (existsSync(join(absRoot, 'src', 'main.rs'))) files.push('main.rs');
  let entries: Dirent[];
  try {
    entries = readdirSync(join(absRoot, 'src', 'bin'), { withFileTypes: true });
  } catch {
    return files;
  }
  for (const e of entries) {
    if (e.isFile()) files.push(`bin/${e.name}`);
    else if (e.isDirectory() && existsSync(join(absRoot, 'src', 'bin', e.name, 'main.rs'))) files.push(`bin/${e.name}/main.rs`);
  }
  return files;
}

/** The file name arch-integration runs (integration/find-tests.ts's DEFAULT_TEST_MATCH). */
const ARCH_TEST = /\.arch\.test\.ts$/;

/** Whether a folder holds a `*.arch.test.ts` at any depth: many repositories have an unrelated `integration/` folder. */
function hasArchTests(dir: string): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => (e.isFile() && ARCH_TEST.test(e.name)) || (e.isDirectory() && e.name !== 'node_modules' && hasArchTests(join(dir, e.name))));
}

/** A Cargo package with at least one binary target, found as Cargo (and import-repo) finds them. */
function cargoBinaryPackage(absRoot: string): { name?: string } | undefined {
  const manifest = readCargoManifest(join(absRoot, 'Cargo.toml'));
  if (!manifest?.package) return undefined;
  if (cargoBinaries(manifest, cargoSrcFiles(absRoot)).length === 0) return undefined;
  return { name: manifest.package.name };
}

/** The final FROM of the Dockerfile is not `scratch` (a cheap line scan; the build parses it properly). */
function dockerfileHasBase(absRoot: string, projectJson: ProjectJsonFile | undefined): boolean {
  const declared = Object.values(projectJson?.targets ?? {}).some((t) => t.executor === 'nx-multiarch:docker-arch-build' && typeof t.options?.dockerfile === 'string');
  if (declared) return true;
  let text: string;
  try {
    text = readFileSync(join(absRoot, 'Dockerfile'), 'utf8');
  } catch {
    return false;
  }
  // The final stage's base is the one the image is built on (resolve-bases reads that one); build stages' bases are never pulled by the native engine.
  const froms = [...text.matchAll(/^[ \t]*FROM[ \t]+((?:--\S+[ \t]+)*)(\S+)/gim)];
  const last = froms[froms.length - 1];
  return last !== undefined && last[2].toLowerCase() !== 'scratch';
}

function readDockerfileUrls(absRoot: string): string[] {
  try {
    return dockerfileUrls(readFileSync(join(absRoot, 'Dockerfile'), 'utf8'));
  } catch {
    return [];
  }
}

/** Facts several projects share (a Go module's embeds), read once per graph computation. */
export interface FactsCache {
  embedsByModule: Map<string, string[]>;
}

export function newFactsCache(): FactsCache {
  return { embedsByModule: new Map() };
}

/**
 * `probes`, when given, records the existence checks whose answers are no
 * file content (where a Dockerfile's COPY sources are): the createNodes memo
 * re-checks them before reusing a result (existence-probes.ts).
 */
export function readProjectFacts(workspaceRoot: string, root: string, cache: FactsCache = newFactsCache(), probes?: ExistenceProbes): ProjectFacts {
  const absRoot = join(workspaceRoot, root);
  const projectJson = readJson<ProjectJsonFile>(join(absRoot, 'project.json'));
  const packageJson = readJson<{ name?: string }>(join(absRoot, 'package.json'));
  const cargo = cargoBinaryPackage(absRoot);
  const goMain = isMainPackageDir(workspaceRoot, root);
  const goModuleRoot = goMain || projectJson?.targets?.['go-cross'] ? findGoModuleRoot(workspaceRoot, root) : undefined;
  let goEmbeds: string[] = [];
  if (goModuleRoot !== undefined) {
    goEmbeds = cache.embedsByModule.get(goModuleRoot) ?? moduleEmbeds(workspaceRoot, goModuleRoot);
    cache.embedsByModule.set(goModuleRoot, goEmbeds);
  }
  // A main at its module's root keeps the whole module as input: it often builds every main of it.
  const goPackages = goMain && goModuleRoot !== undefined && goModuleRoot !== root ? mainPackageClosure(workspaceRoot, goModuleRoot, root) : undefined;
  return {
    root,
    hasProjectJson: projectJson !== undefined,
    declaredName: projectJson?.name ?? packageJson?.name,
    fallbackName: cargo?.name ?? (basename(absRoot) || 'workspace'),
    declaredTargets: projectJson?.targets ?? {},
    cargoPackage: cargo !== undefined,
    ...(cargo ? { cargoRoot: findCargoRoot(workspaceRoot, root) } : {}),
    goMain,
    goModuleRoot,
    goEmbeds,
    ...(goPackages ? { goPackages } : {}),
    dockerfile: existsSync(join(absRoot, 'Dockerfile')),
    ...(neededContext(workspaceRoot, absRoot, probes) === 'repository' ? { dockerContext: 'repository' as const } : {}),
    dockerfileHasBase: dockerfileHasBase(absRoot, projectJson),
    dockerfileUrls: readDockerfileUrls(absRoot),
    integrationTests: hasArchTests(join(absRoot, 'integration')),
  };
}

/** Plain COPY/ADD sources from the context, in every stage (no --from, globs, variables or URLs). */
function contextSources(text: string): string[] {
  const sources: string[] = [];
  for (const stage of parseDockerfile(text).stages) {
    for (const instruction of stage.instructions) {
      if ((instruction.kind !== 'COPY' && instruction.kind !== 'ADD') || instruction.flags.from !== undefined) continue;
      for (const raw of instruction.rawSources) {
        if (/[$*?[\]]|^(https?:\/\/|git@)/.test(raw)) continue;
        sources.push(posix.normalize(raw.replace(/^\/+/, '')));
      }
    }
  }
  return sources;
}

function neededContext(workspaceRoot: string, absRoot: string, probes: ExistenceProbes | undefined): 'repository' | undefined {
  let text: string;
  try {
    text = readFileSync(join(absRoot, 'Dockerfile'), 'utf8');
  } catch {
    return undefined;
  }
  let sources: string[];
  try {
    sources = contextSources(text);
  } catch {
    return undefined;
  }
  if (sources.length === 0 || sources.every((s) => probeExists(workspaceRoot, join(absRoot, s), probes))) return undefined;
  // Every check of the walk is recorded: a new .git or project.json moves the root.
  const repository = repositoryRoot(workspaceRoot, absRoot, (path) => probeExists(workspaceRoot, path, probes));
  return repository !== absRoot && sources.every((s) => probeExists(workspaceRoot, join(repository, s), probes)) ? 'repository' : undefined;
}

/** Project roots of the matched files: each folder once, in a stable order. */
export function projectRootsOf(files: readonly string[]): string[] {
  const roots = new Set(files.map((f) => {
    const dir = dirname(f).split('\\').join('/');
    return dir === '.' ? '' : dir;
  }));
  return [...roots].sort();
}
