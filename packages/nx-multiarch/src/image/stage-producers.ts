import { join, posix, relative, sep } from 'node:path';
import { MultiarchError } from '../errors';
import type { FileOrigin } from '../dockerfile/stage-graph';
import { readCargoManifest } from '../project/cargo-manifest';

/**
 * Which workspace project builds what a Dockerfile's build stage compiles:
 * the Go project at the package's folder (or whose go-cross lists that
 * package), the Cargo project of the crate. Shared by docker-arch-build
 * (to stage that project's artifact) and the graph (for the edge from the
 * image to it), so both read a Dockerfile the same way.
 */

export interface WorkspaceProjectInfo {
  name: string;
  /** Workspace-relative root, POSIX separators. */
  root: string;
  /** Target name → executor and options (project.json and inferred). */
  targets: Record<string, { executor?: string; options?: Record<string, unknown> } | undefined>;
}

export interface Producer {
  project: string;
  /** The target that builds it for one arch: go-cross or cargo-cross (as named in the project). */
  target: string;
  /** File names to look for in dist/cross/<project>/<arch>/, the first that exists wins. */
  fileNames: string[];
  /** Workspace-relative folder of what is compiled, for messages. */
  source: string;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function crossTarget(project: WorkspaceProjectInfo, executor: string): [string, Record<string, unknown>] | undefined {
  for (const [name, target] of Object.entries(project.targets)) {
    // Per-arch variants (go-cross--arm64) run the same thing; the base target names it.
    if (target?.executor === executor && !name.includes('--')) return [name, target.options ?? {}];
  }
  return undefined;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export interface ProducerOptions {
  workspaceRoot: string;
  /** Absolute build context folder. */
  contextDir: string;
  projects: readonly WorkspaceProjectInfo[];
  /** How messages name the Dockerfile. */
  dockerfileLabel: string;
}

/** The project and target that build `origin` (a go or cargo origin), or a clear error. */
export function producerOf(origin: Extract<FileOrigin, { kind: 'go' | 'cargo' }>, options: ProducerOptions): Producer {
  const ws = options.workspaceRoot;
  const workspacePath = (contextPath: string) => toPosix(relative(ws, join(options.contextDir, contextPath))) || '.';
  if (origin.kind === 'go') {
    const dir = workspacePath(origin.packageDir);
    for (const project of options.projects) {
      const found = crossTarget(project, 'nx-multiarch:go-cross');
      if (!found) continue;
      const [target, targetOptions] = found;
      const cwd = typeof targetOptions.cwd === 'string' ? targetOptions.cwd : project.root;
      const mains = stringList(targetOptions.main);
      const builds = (mains.length === 0 ? [project.root] : mains.map((m) => posix.normalize(posix.join(cwd, m)))).map((p) => p.replace(/\/$/, '') || '.');
      if (project.root !== dir && !builds.includes(dir)) continue;
      const outputName = typeof targetOptions.outputName === 'string' && builds.length === 1 ? [targetOptions.outputName] : [];
      return { project: project.name, target, fileNames: [...outputName, posix.basename(dir === '.' ? project.root : dir)], source: dir };
    }
    throw new MultiarchError(
      `${options.dockerfileLabel} line ${origin.line}: go build of ${origin.packageDir || '.'} (${dir} in the workspace) is built by no project with a go-cross target.`,
      `Make ${dir} a project (a project.json, or a package main the plugin infers go-cross for), or point the build context at the repository that holds it (the context option).`,
    );
  }
  const cwd = workspacePath(origin.cwd);
  for (const project of options.projects) {
    const found = crossTarget(project, 'nx-multiarch:cargo-cross');
    if (!found) continue;
    const matches = origin.crate === undefined ? project.root === cwd : readCargoManifest(join(ws, project.root, 'Cargo.toml'))?.package?.name === origin.crate;
    if (!matches) continue;
    if (origin.bin === undefined) {
      throw new MultiarchError(
        `${options.dockerfileLabel} line ${origin.line}: COPY --from takes the whole output folder of cargo build; the plugin maps binaries by name.`,
        'Copy each binary by its path (…/release/<name>), or cp it to a folder in the RUN line and copy that.',
      );
    }
    return { project: project.name, target: found[0], fileNames: [origin.bin], source: project.root };
  }
  throw new MultiarchError(
    `${options.dockerfileLabel} line ${origin.line}: cargo build of ${origin.crate ?? origin.cwd} is built by no project with a cargo-cross target.`,
    origin.crate
      ? `Import the crate ${origin.crate} as a project (its Cargo.toml with a binary makes one), or check the -p name.`
      : `Make ${cwd} a project (a Cargo.toml with a binary), or pass -p <crate>.`,
  );
}
