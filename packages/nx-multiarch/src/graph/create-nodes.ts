import type { CreateNodesContextV2, CreateNodesResult, CreateNodesV2 } from '@nx/devkit';
import type { NxMultiarchPluginOptions } from './plugin-options';
import { inferTargets, resolveOptions } from './infer-targets';
import type { ExistenceProbes } from './existence-probes';
import { openNodesMemo, type MemoEntry } from './nodes-memo';
import { newFactsCache, projectRootsOf, readProjectFacts, type FactsCache } from './project-facts';

/**
 * Files that make a folder a project this plugin builds. Each folder is read
 * once, whichever of its files matched, and its targets are returned once.
 */
export const PROJECT_FILES_GLOB = '**/{project.json,Cargo.toml,Dockerfile,main.go}';

function projectResult(workspaceRoot: string, root: string, options: NxMultiarchPluginOptions | undefined, cache: FactsCache, probes: ExistenceProbes): CreateNodesResult {
  const facts = readProjectFacts(workspaceRoot, root, cache, probes);
  const targets = inferTargets(facts, resolveOptions(options));
  if (Object.keys(targets).length === 0) return {};
  return {
    projects: {
      [root === '' ? '.' : root]: {
        // Name a project only where no project.json or package.json does.
        ...(facts.declaredName ? {} : { name: facts.fallbackName }),
        targets,
      },
    },
  };
}

export const createNodesV2: CreateNodesV2<NxMultiarchPluginOptions> = [
  PROJECT_FILES_GLOB,
  async (files, options, context: CreateNodesContextV2) => {
    // Validate options once, so a bad arch in nx.json is one clear error.
    resolveOptions(options);
    const firstFileOfRoot = new Map<string, string>();
    for (const file of files) {
      const [root] = projectRootsOf([file]);
      if (!firstFileOfRoot.has(root)) firstFileOfRoot.set(root, file);
    }
    const roots = [...firstFileOfRoot.keys()];
    const memo = await openNodesMemo(context.workspaceRoot, roots, options);
    const cache = newFactsCache();
    const inferred = (root: string): MemoEntry => {
      const probes: ExistenceProbes = {};
      return { result: projectResult(context.workspaceRoot, root, options, cache, probes), probes };
    };
    const kept: Record<string, MemoEntry> = {};
    const results = roots.map((root, i) => {
      const key = memo?.keys[i];
      const entry = (key !== undefined ? memo?.lookup(key) : undefined) ?? inferred(root);
      if (key !== undefined) kept[key] = entry;
      return [firstFileOfRoot.get(root) as string, entry.result] as const;
    });
    memo?.save(kept);
    return results;
  },
];

/** Nx 21+ reads `createNodes`; both names point at the same v2 function. */
export const createNodes = createNodesV2;
