import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import { CROSS_OUTPUTS, cargoCrossInputs, goCrossInputs, goCrossOptions, workspaceGlob } from '../../project/target-templates';
import type { CargoBinaryPackage } from './cargo-packages';
import type { DockerfileInfo } from './dockerfiles';
import type { GoMain } from './go-packages';

/**
 * Target configurations import-repo writes into project.json. Each is
 * complete (executor, cache, inputs, outputs, options) so it works with or
 * without the plugin's inference, and its inputs name every file outside the
 * project root that changes the result.
 */

export type { Input } from '../../project/target-templates';
import type { Input } from '../../project/target-templates';

/** A file or folder another project builds, staged into an image's build context. */
export type Artifact = { from: string; to: string } | { package: string; to: string };

/** Where cargo-cross and go-cross write, per project and arch; `{arch}` is filled in by docker-arch-build. */
export function crossOutput(project: string): string {
  return `dist/cross/${project}/{arch}`;
}

const ws = workspaceGlob;

/** The version variable a release pipeline sets, when it is not the default: an option and a cache input. */
function versionFrom(versionEnv: string | undefined): { inputs: Input[]; options: { versionEnv?: string } } {
  return versionEnv && versionEnv !== 'NX_MULTIARCH_VERSION' ? { inputs: [{ env: versionEnv }], options: { versionEnv } } : { inputs: [], options: {} };
}

export function goCrossTarget(main: GoMain, outputName: string, versionEnv?: string): TargetConfiguration {
  const version = versionFrom(versionEnv);
  return {
    executor: 'nx-multiarch:go-cross',
    cache: true,
    inputs: [...goCrossInputs(main.moduleRoot, main.embeds), ...version.inputs],
    outputs: [...CROSS_OUTPUTS],
    options: { ...goCrossOptions(main.moduleRoot, main.dir), outputName, ...version.options },
  };
}

export function cargoCrossTarget(pkg: CargoBinaryPackage, versionEnv?: string): TargetConfiguration {
  const version = versionFrom(versionEnv);
  return {
    executor: 'nx-multiarch:cargo-cross',
    cache: true,
    inputs: [...cargoCrossInputs(pkg.cargoRoot), ...version.inputs],
    // cwd and bins stay at their defaults (the project root, every binary), so a new [[bin]] needs no edit here.
    outputs: [...CROSS_OUTPUTS],
    ...(Object.keys(version.options).length > 0 ? { options: version.options } : {}),
  };
}

export interface ImageTargetInput {
  dockerfile: DockerfileInfo;
  artifacts: Artifact[];
  /** Downloaded releases mapped to the workspace target that builds them (docker-arch-build's downloads option). */
  downloads?: Record<string, string>;
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
  const context = input.dockerfile.context ?? input.dockerfile.dir;
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
      ...(input.downloads ? { downloads: input.downloads } : {}),
    },
  };
}

/** The systems and arches a CLI is released for besides linux (Linkerd ships darwin and windows downloads). */
export const CLI_FOREIGN_BUILDS: ReadonlyArray<{ os: 'darwin' | 'windows'; arch: 'amd64' | 'arm64' }> = [
  { os: 'darwin', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
  { os: 'windows', arch: 'arm64' },
];

/** `cli-darwin-arm64`: the target that builds one foreign release binary. */
export function cliTargetName(os: string, arch: string): string {
  return `cli-${os}-${arch}`;
}

/**
 * A CLI's release assets: one cached go-cross target per foreign system and
 * arch (each its own Nx task, so affected and the cache treat it like any
 * binary), the linux ones from go-cross's per-arch variants, and `cli-assets`
 * that runs them all. No image, so no manifest-push.
 */
export function cliTargets(main: GoMain, outputName: string, releaseName: string, linuxArches: readonly string[], versionEnv?: string): Record<string, TargetConfiguration> {
  const base = goCrossTarget(main, outputName, versionEnv);
  const targets: Record<string, TargetConfiguration> = {};
  for (const { os, arch } of CLI_FOREIGN_BUILDS) {
    targets[cliTargetName(os, arch)] = {
      ...base,
      outputs: [`{workspaceRoot}/dist/cross/{projectName}/${os}-${arch}`],
      options: { ...base.options, os, arch, releaseName },
    };
  }
  targets['cli-assets'] = {
    executor: 'nx:noop',
    dependsOn: [...CLI_FOREIGN_BUILDS.map(({ os, arch }) => cliTargetName(os, arch)), ...linuxArches.map((arch) => `go-cross--${arch}`)],
  };
  return targets;
}
