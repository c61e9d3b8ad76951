import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import type { CargoBinaryPackage } from './cargo-packages';
import type { DockerfileInfo } from './dockerfiles';
import type { GoMain } from './go-packages';

/**
 * Target configurations import-repo writes into project.json. Each is
 * complete (executor, cache, inputs, outputs, options) so it works with or
 * without the plugin's inference, and its inputs name every file outside the
 * project root that changes the result.
 */

/** One entry of a target's `inputs` (the devkit does not export the type). */
export type Input = NonNullable<TargetConfiguration['inputs']>[number];

/** A file or folder another project builds, staged into an image's build context. */
export type Artifact = { from: string; to: string } | { package: string; to: string };

/** Where cargo-cross and go-cross write, per project and arch; `{arch}` is filled in by docker-arch-build. */
export function crossOutput(project: string): string {
  return `dist/cross/${project}/{arch}`;
}

const ws = (path: string) => (path === '' ? '{workspaceRoot}' : `{workspaceRoot}/${path}`);

export function goCrossTarget(main: GoMain, outputName: string): TargetConfiguration {
  const module = ws(main.moduleRoot);
  const inside = main.dir === main.moduleRoot ? '.' : `./${main.dir.slice(main.moduleRoot.length).replace(/^\//, '')}`;
  return {
    executor: 'nx-multiarch:go-cross',
    cache: true,
    // A main package may import any package of its module; with CGO off only
    // .go files, go.mod/go.sum, vendor/modules.txt and //go:embed files reach the binary.
    inputs: [
      `${module}/go.mod`,
      `${module}/go.sum`,
      `${module}/vendor/modules.txt`,
      `${module}/**/*.go`,
      `!${module}/**/*_test.go`,
      ...main.embeds.flatMap((e) => [ws(e), `${ws(e)}/**/*`]),
      { runtime: 'go env GOVERSION' },
      { env: 'GOFLAGS' },
      { env: 'GOEXPERIMENT' },
      { env: 'NX_MULTIARCH_VERSION' },
    ],
    outputs: ['{workspaceRoot}/dist/cross/{projectName}/{options.arch}'],
    options: { cwd: main.moduleRoot, main: [inside], outputName },
  };
}

export function cargoCrossTarget(pkg: CargoBinaryPackage): TargetConfiguration {
  const root = ws(pkg.cargoRoot);
  return {
    executor: 'nx-multiarch:cargo-cross',
    cache: true,
    // The whole Cargo workspace: path dependencies, build scripts and
    // include_bytes! may read any of it. Files no Rust build reads are left out.
    inputs: [
      `${root}/**/*`,
      `!${root}/**/*.md`,
      `!${root}/**/Dockerfile*`,
      `!${root}/**/*.Dockerfile`,
      `!${root}/**/.dockerignore`,
      `!${root}/**/*.go`,
      `!${root}/**/go.mod`,
      `!${root}/**/go.sum`,
      `!${root}/.github/**/*`,
      `!${root}/**/project.json`,
      '{workspaceRoot}/LICENSE',
      { runtime: '/usr/bin/rustc -vV' },
      { env: 'RUSTFLAGS' },
      { env: 'SOURCE_DATE_EPOCH' },
    ],
    // cwd and bins stay at their defaults (the project root, every binary), so a new [[bin]] needs no edit here.
    outputs: ['{workspaceRoot}/dist/cross/{projectName}/{options.arch}'],
  };
}

export interface ImageTargetInput {
  dockerfile: DockerfileInfo;
  artifacts: Artifact[];
  /** Cross targets of the image's own project, built first for the same arch. */
  ownCross: Array<'go-cross' | 'cargo-cross'>;
  /** Cross targets of the projects whose artifacts it stages. */
  dependencyCross: Array<'go-cross' | 'cargo-cross'>;
}

export function dockerArchBuildTarget(input: ImageTargetInput): TargetConfiguration {
  const dependsOn: TargetDependencyConfig[] = [
    ...input.ownCross.map((target) => ({ target, params: 'forward' as const })),
    ...input.dependencyCross.map((target) => ({ dependencies: true, target, params: 'forward' as const })),
  ];
  const context = input.dockerfile.dir;
  return {
    executor: 'nx-multiarch:docker-arch-build',
    cache: true,
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
    // The whole build context, as Docker sends it, plus the staged artifacts.
    inputs: [
      ws(input.dockerfile.path),
      `${ws(context)}/**/*`,
      { dependentTasksOutputFiles: '**/*', transitive: false },
      { env: 'SOURCE_DATE_EPOCH' },
    ],
    outputs: ['{workspaceRoot}/dist/images/{projectName}/{options.arch}'],
    options: {
      dockerfile: input.dockerfile.path,
      context,
      ...(input.artifacts.length > 0 ? { artifacts: input.artifacts } : {}),
    },
  };
}
