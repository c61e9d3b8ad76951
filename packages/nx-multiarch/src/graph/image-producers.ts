import { resolve, sep } from 'node:path';
import type { Arch } from '../platform/platforms';
import type { WorkspaceProjectInfo } from '../image/stage-producers';
import { CROSS_OUTPUTS } from '../project/target-templates';
import { artifactProjects, downloadedProjects } from './create-dependencies';
import { scanDockerfile } from './dockerfile-edges';

/**
 * Which other projects' cross outputs an image reads, so its docker-arch-build
 * can depend on (and hash) just those instead of every project dependency's.
 *
 * A project dependency is not always something the image contains:
 * linkerd2-web names linkerd2-controller in implicitDependencies because its
 * integration test runs the controller's image, yet its image holds only its
 * own binary. Depending on `{dependencies: true}` made every controller change
 * rebuild web's three images.
 *
 * An image reads another project's cross output in three ways, all read here
 * the way docker-arch-build reads them: a build stage that compiles that
 * project's package (stage-producers.ts), an `artifacts` entry under
 * `dist/cross/<project>/`, and a download the `downloads` option maps. When
 * any of them cannot be told for sure, the answer is undefined and the image
 * keeps depending on every dependency: a missed producer would be a stale
 * cache entry, an extra one only a rebuild.
 */

export interface GraphTarget {
  executor?: string;
  options?: Record<string, unknown>;
  outputs?: string[];
}

export interface GraphProject extends WorkspaceProjectInfo {
  targets: Record<string, GraphTarget | undefined>;
}

const CROSS_EXECUTORS = new Set(['nx-multiarch:go-cross', 'nx-multiarch:cargo-cross']);

/** An absolute, normalized folder and the prefix of every path inside it. */
export interface OutputFolder {
  dir: string;
  inside: string;
}

/** The fixed folder part of each cross target's outputs (up to the first `{option}`), absolute, each once; computed once per workspace. */
export function crossOutputFolders(workspaceRoot: string, projects: readonly GraphProject[]): OutputFolder[] {
  const dirs = new Set<string>();
  for (const project of projects) {
    for (const target of Object.values(project.targets)) {
      if (!target?.executor || !CROSS_EXECUTORS.has(target.executor)) continue;
      for (const output of target.outputs ?? CROSS_OUTPUTS) {
        const path = output.split('{workspaceRoot}').join('.').split('{projectRoot}').join(project.root).split('{projectName}').join(project.name);
        const fixed = path.slice(0, path.includes('{') ? path.indexOf('{') : undefined);
        dirs.add(resolve(workspaceRoot, fixed.replace(/^!/, '')));
      }
    }
  }
  return [...dirs].map((dir) => ({ dir, inside: dir.endsWith(sep) ? dir : `${dir}${sep}` }));
}

/** Whether the context folder holds one of the folders or lies in one (images x folders string tests, no allocation inside the loop). */
function overlapsAny(contextDir: string, folders: readonly OutputFolder[]): boolean {
  const context = resolve(contextDir);
  const contextInside = context.endsWith(sep) ? context : `${context}${sep}`;
  return folders.some((f) => f.dir === context || context.startsWith(f.inside) || f.dir.startsWith(contextInside));
}

/**
 * The other projects whose cross outputs the image of `project` reads
 * (`imageOptions`: its docker-arch-build options as merged), or undefined
 * when that cannot be told for sure. `crossOutputs`: crossOutputFolders of
 * the same projects, passed in when asked for many images.
 */
export function imageProducers(
  workspaceRoot: string,
  project: GraphProject,
  imageOptions: Record<string, unknown>,
  projects: readonly GraphProject[],
  arches: readonly Arch[],
  crossOutputs: readonly OutputFolder[] = crossOutputFolders(workspaceRoot, projects),
): string[] | undefined {
  const artifacts = imageOptions.artifacts;
  if (artifacts !== undefined && !Array.isArray(artifacts)) return undefined;
  const fromArtifacts = artifactProjects(artifacts);
  // An artifact from anywhere but dist/cross/<project>/ may be some target's output this analysis cannot name.
  const everyArtifactNamed = ((artifacts as unknown[] | undefined) ?? []).every((a) => artifactProjects([a]).length > 0);
  if (!everyArtifactNamed) return undefined;
  const scan = scanDockerfile(workspaceRoot, project, imageOptions, projects, arches);
  if (!scan?.complete) return undefined;
  // A context that holds a cross output folder (the workspace root as context) can COPY any project's binaries.
  if (overlapsAny(scan.contextDir, crossOutputs)) return undefined;
  const names = new Set([...fromArtifacts, ...downloadedProjects(workspaceRoot, project.root, imageOptions), ...scan.edges.map((e) => e.project)]);
  names.delete(project.name);
  return [...names].sort();
}
