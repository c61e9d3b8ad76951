import type { CreateNodesContextV2, CreateNodesResult, CreateNodesV2 } from '@nx/devkit';
import type { NxMultiarchPluginOptions } from './plugin-options';
import { inferTargets, resolveOptions } from './infer-targets';
import type { ExistenceProbes } from './existence-probes';
import { openNodesMemo, type MemoEntry } from './nodes-memo';
import { uniqueProjectNames } from './project-names';
import { nonReleaseRule } from '../project/release-rules';
import { narrowImageDependencies } from './narrow-image-deps';
import { newFactsCache, projectRootsOf, readProjectFacts, type FactsCache } from './project-facts';

/**
 * Files that make a folder a project this plugin builds. Each folder is read
 * once, whichever of its files matched, and its targets are returned once.
 */
export const PROJECT_FILES_GLOB = '**/{project.json,Cargo.toml,Dockerfile,main.go}';

/** Non-release rules inference applies too (the others, like test folders, hold projects a workspace may build). */
const NEVER_SHIPPED: ReadonlySet<string> = new Set(['devcontainer', 'fuzz']);

/** Whether `root` lies in a repository import-repo configured (plugin option importedRepositories). */
function inImportedRepository(root: string, options: NxMultiarchPluginOptions | undefined): boolean {
  return (options?.importedRepositories ?? []).some((repo) => root === repo || root.startsWith(`${repo.replace(/\/+$/, '')}/`));
}

/** The project's entry, its existence checks recorded into `probes` (existence-probes.ts). */
function projectResult(workspaceRoot: string, root: string, options: NxMultiarchPluginOptions | undefined, cache: FactsCache, probes: ExistenceProbes): MemoEntry {
  const facts = readProjectFacts(workspaceRoot, root, cache, probes);
  const declared = {
    ...(facts.declaredName ? { declaredName: facts.declaredName } : {}),
    ...(Object.keys(facts.declaredTargets).length > 0 ? { declaredTargets: facts.declaredTargets } : {}),
  };
  // What import-repo wrote wins: in a repository it imported, a folder it gave no
  // project.json is one it chose not to build (a fuzz crate, a devcontainer).
  const imported = inImportedRepository(root, options);
  if (!facts.hasProjectJson && imported) return { result: {}, probes, ...declared };
  // Never shipped, whoever imported them: a devcontainer's Dockerfile, a fuzz crate (a project.json still opts in).
  if (!facts.hasProjectJson && NEVER_SHIPPED.has(nonReleaseRule({ dir: root, kind: facts.cargoPackage ? 'cargo' : 'dockerfile', name: facts.fallbackName }) ?? 'none')) {
    return { result: {}, probes, ...declared };
  }
  // Inside an imported repository the project.json says which kinds of target a folder has
  // (a CLI's bundle Dockerfile is no image); inference adds only their per-arch variants.
  const targets = inferTargets(imported ? { ...facts, cargoPackage: false, goMain: false, dockerfile: false } : facts, resolveOptions(options));
  if (Object.keys(targets).length === 0) return { result: {}, probes, ...declared };
  return {
    result: {
      projects: {
        [root === '' ? '.' : root]: {
          // Name a project only where no project.json or package.json does (made unique below).
          ...(facts.declaredName ? {} : { name: facts.fallbackName }),
          targets,
        },
      },
    },
    probes,
    ...declared,
  };
}

/** Gives the projects inference names a name no other project has (see project-names.ts). */
function withUniqueNames(entries: readonly MemoEntry[]): CreateNodesResult[] {
  const declared = new Set(entries.map((e) => e.declaredName).filter((n): n is string => n !== undefined));
  const inferred = entries.flatMap((e) =>
    Object.entries(e.result.projects ?? {}).flatMap(([root, p]) => (typeof p.name === 'string' && e.declaredName === undefined ? [{ root, name: p.name }] : [])),
  );
  const names = uniqueProjectNames(inferred, declared);
  return entries.map((e) => {
    const projects = e.result.projects;
    if (!projects) return e.result;
    return { ...e.result, projects: Object.fromEntries(Object.entries(projects).map(([root, p]) => [root, names.has(root) ? { ...p, name: names.get(root) } : p])) };
  });
}

export const createNodesV2: CreateNodesV2<NxMultiarchPluginOptions> = [
  PROJECT_FILES_GLOB,
  async (files, options, context: CreateNodesContextV2) => {
    // Validate options once, so a bad arch in nx.json is one clear error.
    const resolved = resolveOptions(options);
    const firstFileOfRoot = new Map<string, string>();
    for (const file of files) {
      const [root] = projectRootsOf([file]);
      if (!firstFileOfRoot.has(root)) firstFileOfRoot.set(root, file);
    }
    const roots = [...firstFileOfRoot.keys()];
    const memo = await openNodesMemo(context.workspaceRoot, roots, options);
    const cache = newFactsCache();
    const kept: Record<string, MemoEntry> = {};
    const entries = roots.map((root, i) => {
      const key = memo?.keys[i];
      const entry = (key !== undefined ? memo?.lookup(key) : undefined) ?? projectResult(context.workspaceRoot, root, options, cache, {});
      if (key !== undefined) kept[key] = entry;
      return entry;
    });
    memo?.save(kept);
    const named = withUniqueNames(entries);
    const results = narrowImageDependencies(
      context.workspaceRoot,
      entries.map((e, i) => ({ ...e, result: named[i] })),
      resolved,
    );
    return roots.map((root, i) => [firstFileOfRoot.get(root) as string, results[i]] as const);
  },
];

/** Nx 21+ reads `createNodes`; both names point at the same v2 function. */
export const createNodes = createNodesV2;
