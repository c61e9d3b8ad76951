import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DependencyType, type CreateDependencies, type RawProjectGraphDependency } from '@nx/devkit';
import type { NxMultiarchPluginOptions } from './plugin-options';

/**
 * Edges that consuming another project's artifacts implies: an image whose
 * docker-arch-build stages `dist/cross/<other>/…` depends on `<other>`, so
 * ordering, `nx affected` and `nx graph` all follow the artifact.
 */
interface ArtifactOption {
  from?: string;
  package?: string;
}

const CROSS_OUTPUT = /^(?:\{workspaceRoot\}\/)?dist\/cross\/([^/]+)\//;

export function artifactProjects(artifacts: unknown): string[] {
  if (!Array.isArray(artifacts)) return [];
  const names = new Set<string>();
  for (const artifact of artifacts as ArtifactOption[]) {
    for (const path of [artifact?.from, artifact?.package]) {
      const match = typeof path === 'string' ? CROSS_OUTPUT.exec(`${path}/`) : null;
      if (match) names.add(match[1]);
    }
  }
  return [...names];
}

export const createDependencies: CreateDependencies<NxMultiarchPluginOptions> = (_options, context) => {
  const dependencies: RawProjectGraphDependency[] = [];
  for (const [source, project] of Object.entries(context.projects)) {
    for (const target of Object.values(project.targets ?? {})) {
      if (target.executor !== 'nx-multiarch:docker-arch-build') continue;
      for (const consumed of artifactProjects(target.options?.artifacts)) {
        if (consumed === source || !context.projects[consumed]) continue;
        const sourceFile = join(project.root, 'project.json');
        dependencies.push(
          existsSync(join(context.workspaceRoot, sourceFile))
            ? { source, target: consumed, type: DependencyType.static, sourceFile: sourceFile.split('\\').join('/') }
            : { source, target: consumed, type: DependencyType.implicit },
        );
      }
    }
  }
  // The same edge may be named by the base target and by each per-arch variant.
  const seen = new Set<string>();
  return dependencies.filter((d) => {
    const key = `${d.source}>${d.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};
