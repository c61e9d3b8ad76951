import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseDockerfile } from '../dockerfile/parse';
import { planStages } from '../dockerfile/stage-graph';
import { PLATFORMS, type Arch } from '../platform/platforms';
import { resolveContextDir } from '../image/context-option';
import { producerOf, type WorkspaceProjectInfo } from '../image/stage-producers';

/**
 * The projects an image's Dockerfile compiles in its build stages (go build,
 * cargo build in a `FROM --platform=$BUILDPLATFORM` stage): the image
 * depends on them as if it staged their artifacts, so `nx graph`,
 * `nx affected` and the task order (docker-arch-build depends on its
 * dependencies' go-cross/cargo-cross) follow the Dockerfile. Read the same
 * way docker-arch-build reads it (stage-graph.ts, stage-producers.ts), for
 * every configured arch; a Dockerfile that cannot be read gives no edge
 * here — the build itself reports why.
 */

export interface DockerfileTarget {
  dockerfile?: unknown;
  context?: unknown;
  buildArgs?: unknown;
}

export interface DockerfileEdge {
  project: string;
  /** Workspace-relative Dockerfile, POSIX separators. */
  dockerfile: string;
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function expand(value: string, root: string, name: string): string {
  return value.split('{projectRoot}').join(root).split('{projectName}').join(name).split('{workspaceRoot}').join('.');
}

export function dockerfileProducers(
  workspaceRoot: string,
  project: WorkspaceProjectInfo,
  options: DockerfileTarget,
  projects: readonly WorkspaceProjectInfo[],
  arches: readonly Arch[],
): DockerfileEdge[] {
  return scanDockerfile(workspaceRoot, project, options, projects, arches)?.edges ?? [];
}

export interface DockerfileScan {
  /** Every other project a build stage compiles, for every arch. */
  edges: DockerfileEdge[];
  /** Absolute build context folder. */
  contextDir: string;
  /** False when some build stage maps to no project: the build will refuse it, so the edges are not all it reads. */
  complete: boolean;
}

/** The Dockerfile's producers and context folder; undefined when it cannot be read or parsed. */
export function scanDockerfile(
  workspaceRoot: string,
  project: WorkspaceProjectInfo,
  options: DockerfileTarget,
  projects: readonly WorkspaceProjectInfo[],
  arches: readonly Arch[],
): DockerfileScan | undefined {
  const raw = typeof options.dockerfile === 'string' ? expand(options.dockerfile, project.root, project.name) : join(project.root, 'Dockerfile');
  const dockerfile = isAbsolute(raw) ? raw : resolve(workspaceRoot, raw);
  const label = relative(workspaceRoot, dockerfile).split(sep).join('/');
  let text: string;
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    return undefined;
  }
  const found = new Map<string, DockerfileEdge>();
  let complete = true;
  try {
    const parsed = parseDockerfile(text, label);
    const contextDir = resolveContextDir(workspaceRoot, dockerfile, typeof options.context === 'string' ? expand(options.context, project.root, project.name) : undefined);
    if (parsed.stageCount < 2) return { edges: [], contextDir, complete };
    const probe = (path: string): 'file' | 'dir' | undefined => {
      try {
        return statSync(join(contextDir, path)).isDirectory() ? 'dir' : 'file';
      } catch {
        return undefined;
      }
    };
    for (const arch of arches) {
      const plan = planStages({ parsed, buildArgs: stringRecord(options.buildArgs), target: PLATFORMS[arch], probe });
      for (const item of plan.items) {
        // Context files have no producer; downloads get their edge from the downloads option (create-dependencies.ts).
        if (item.origin.kind === 'context' || item.origin.kind === 'download') continue;
        try {
          const producer = producerOf(item.origin, { workspaceRoot, contextDir, projects, dockerfileLabel: label });
          if (producer.project !== project.name) found.set(producer.project, { project: producer.project, dockerfile: label });
        } catch {
          // No project builds it: the build says so with the fix.
          complete = false;
        }
      }
    }
    return { edges: [...found.values()], contextDir, complete };
  } catch {
    return undefined;
  }
}
