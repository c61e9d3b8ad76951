import type { ExecutorContext } from '@nx/devkit';
import type { ArtifactSpec } from '../../image/artifacts';
import { buildImage } from '../../image/build-image';
import type { EngineChoice } from '../../image/engines';
import { ExecutorResult, projectOf, runExecutor } from '../executor-support';

/** The options of schema.json (see there for what each means). */
export interface DockerArchBuildOptions {
  arch: string;
  dockerfile?: string;
  context?: string;
  engine?: EngineChoice;
  allowEmulation?: boolean;
  buildArgs?: Record<string, string>;
  artifacts?: ArtifactSpec[];
  downloads?: Record<string, string>;
  labels?: Record<string, string>;
  tags?: string[];
  sourceDateEpoch?: number | string;
  version?: string;
  revision?: string;
  source?: string;
  insecureRegistries?: string[];
  registryMirrors?: Record<string, string[]>;
  baseImages?: Record<string, string>;
  blobCacheDir?: string;
  packageCacheDir?: string;
  packageScriptsNotNeeded?: string[];
  builderId?: string;
  attestations?: boolean;
  sbomFormat?: 'spdx' | 'cyclonedx' | 'both';
}

const CROSS_TARGETS = ['cargo-cross', 'go-cross'];

/** The cross target a project has, for "build it first" hints. */
function crossTargetOf(context: ExecutorContext, project: string): string | undefined {
  const targets = context.projectsConfigurations?.projects[project]?.targets ?? {};
  return CROSS_TARGETS.find((name) => name in targets);
}

/** nx-multiarch:docker-arch-build — one project's image for one arch, as an OCI layout in dist/images. */
export default async function dockerArchBuildExecutor(options: DockerArchBuildOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(async () => {
    const project = projectOf(context);
    await buildImage({
      ...options,
      workspaceRoot: context.root,
      project: project.name,
      projectRoot: project.root,
      log: (line) => console.log(line),
      crossTargetOf: (name) => crossTargetOf(context, name),
      projectRootOf: (name) => context.projectsConfigurations?.projects[name]?.root,
      target: context.targetName,
      projects: Object.entries(context.projectsConfigurations?.projects ?? {}).map(([name, p]) => ({
        name,
        root: p.root,
        targets: Object.fromEntries(Object.entries(p.targets ?? {}).map(([t, c]) => [t, { executor: c.executor, options: c.options as Record<string, unknown> | undefined }])),
      })),
    });
  }, context);
}
