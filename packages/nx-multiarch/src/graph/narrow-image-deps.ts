import type { CreateNodesResult, TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import { dedupe, type ResolvedOptions } from './infer-targets';
import { crossOutputFolders, imageProducers, type GraphProject, type GraphTarget } from './image-producers';

/**
 * The workspace-wide step of createNodes: each inferred docker-arch-build
 * (and its per-arch variants) depends on the cross targets of the projects
 * its image reads (image-producers.ts) instead of those of every project
 * dependency, wherever those producers can be told for sure. Run after every
 * project's own inference, since a Dockerfile's build stage may compile
 * another project's package, named by that project's go-cross options.
 */

export interface InferredProject {
  result: CreateNodesResult;
  declaredName?: string;
  /** project.json's targets: they win over inferred ones, as Nx merges them. */
  declaredTargets?: Record<string, TargetConfiguration>;
}

function merged(inferred: TargetConfiguration | undefined, declared: TargetConfiguration | undefined): GraphTarget {
  return {
    executor: declared?.executor ?? inferred?.executor,
    options: { ...(inferred?.options ?? {}), ...(declared?.options ?? {}) },
    ...(declared?.outputs ?? inferred?.outputs ? { outputs: declared?.outputs ?? inferred?.outputs } : {}),
  };
}

function graphProjects(projects: readonly InferredProject[]): GraphProject[] {
  return projects.flatMap((p) =>
    Object.entries(p.result.projects ?? {}).flatMap(([root, config]) => {
      const name = config.name ?? p.declaredName;
      if (!name) return [];
      const declared = p.declaredTargets ?? {};
      const inferred = config.targets ?? {};
      const names = new Set([...Object.keys(inferred), ...Object.keys(declared)]);
      return [{ name, root, targets: Object.fromEntries([...names].map((t) => [t, merged(inferred[t], declared[t])])) }];
    }),
  );
}

/** `go-cross--arm64` → `go-cross` */
function baseName(target: string): string {
  const at = target.indexOf('--');
  return at < 0 ? target : target.slice(0, at);
}

export function narrowImageDependencies(workspaceRoot: string, projects: readonly InferredProject[], options: ResolvedOptions): CreateNodesResult[] {
  const n = options.names;
  const imageExecutor = 'nx-multiarch:docker-arch-build';
  const crossTargets = new Set([n['go-cross'], n['cargo-cross']]);
  const all = graphProjects(projects);
  const byName = new Map(all.map((p) => [p.name, p]));
  const crossOutputs = crossOutputFolders(workspaceRoot, all);
  return projects.map((p) => {
    const entries = Object.entries(p.result.projects ?? {});
    if (entries.length === 0) return p.result;
    return {
      ...p.result,
      projects: Object.fromEntries(
        entries.map(([root, config]) => {
          const name = config.name ?? p.declaredName;
          const self = name ? byName.get(name) : undefined;
          const image = self?.targets[n['docker-arch-build']];
          if (!self || image?.executor !== imageExecutor) return [root, config];
          const producers = imageProducers(workspaceRoot, self, image.options ?? {}, all, options.arches, crossOutputs);
          if (!producers) return [root, config];
          const narrow = (dependency: string | TargetDependencyConfig): Array<string | TargetDependencyConfig> => {
            if (typeof dependency === 'string' || dependency.dependencies !== true || !crossTargets.has(baseName(dependency.target))) return [dependency];
            const having = producers.filter((producer) => byName.get(producer)?.targets[dependency.target] !== undefined);
            if (having.length === 0) return [];
            // Shaped as infer-targets writes a download's producer ({projects, target, params}), so dedupe sees one entry.
            const { dependencies: _all, target, ...others } = dependency;
            return [{ projects: having, target, ...others }];
          };
          const targets = Object.fromEntries(
            Object.entries(config.targets ?? {}).map(([targetName, target]) => [
              targetName,
              target.executor === imageExecutor && baseName(targetName) === n['docker-arch-build'] && target.dependsOn
                ? { ...target, dependsOn: dedupe(target.dependsOn.flatMap(narrow)) }
                : target,
            ]),
          );
          return [root, { ...config, targets }];
        }),
      ),
    };
  });
}
