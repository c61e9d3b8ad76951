import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DependencyType, type CreateDependencies, type RawProjectGraphDependency } from '@nx/devkit';
import type { NxMultiarchPluginOptions } from './plugin-options';
import { dockerfileUrls, downloadProducers, validateDownloadMap } from '../dockerfile/download-map';
import { dockerfileProducers } from './dockerfile-edges';
import { resolveOptions } from './infer-targets';
import type { WorkspaceProjectInfo } from '../image/stage-producers';

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

/** Projects whose packages the Dockerfile downloads, as the target's downloads option maps them. */
export function downloadedProjects(workspaceRoot: string, projectRoot: string, options: Record<string, unknown> | undefined): string[] {
  const map = options?.downloads;
  if (!map || typeof map !== 'object' || Array.isArray(map) || Object.keys(map).length === 0) return [];
  const dockerfile = typeof options?.dockerfile === 'string' ? options.dockerfile.split('{projectRoot}').join(projectRoot) : join(projectRoot, 'Dockerfile');
  let text: string;
  try {
    text = readFileSync(join(workspaceRoot, dockerfile), 'utf8');
  } catch {
    return [];
  }
  let producers: Array<{ project: string }>;
  try {
    producers = downloadProducers(dockerfileUrls(text), validateDownloadMap(map));
  } catch {
    return []; // a malformed option is the build's to report
  }
  return producers.map((p) => p.project);
}

export const createDependencies: CreateDependencies<NxMultiarchPluginOptions> = (options, context) => {
  const dependencies: RawProjectGraphDependency[] = [];
  const arches = resolveOptions(options).arches;
  const projects: WorkspaceProjectInfo[] = Object.entries(context.projects).map(([name, p]) => ({
    name,
    root: p.root,
    targets: Object.fromEntries(Object.entries(p.targets ?? {}).map(([t, c]) => [t, { executor: c.executor, options: c.options as Record<string, unknown> | undefined }])),
  }));
  for (const [source, project] of Object.entries(context.projects)) {
    for (const [targetName, target] of Object.entries(project.targets ?? {})) {
      if (target.executor !== 'nx-multiarch:docker-arch-build') continue;
      // The base target names the Dockerfile; its per-arch variants read the same one.
      if (!targetName.includes('--')) {
        const info = projects.find((p) => p.name === source) as WorkspaceProjectInfo;
        for (const edge of dockerfileProducers(context.workspaceRoot, info, target.options ?? {}, projects, arches)) {
          const inProject = edge.dockerfile.startsWith(`${project.root}/`);
          dependencies.push(
            inProject
              ? { source, target: edge.project, type: DependencyType.static, sourceFile: edge.dockerfile }
              : { source, target: edge.project, type: DependencyType.implicit },
          );
        }
      }
      for (const consumed of [...artifactProjects(target.options?.artifacts), ...downloadedProjects(context.workspaceRoot, project.root, target.options)]) {
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
