import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import { Arch, DEFAULT_ARCHES, hostArch } from '../platform/platforms';
import { parseArchList } from '../platform/parse-arch';
import type { InferredTarget, NxMultiarchPluginOptions } from './plugin-options';
import type { ProjectFacts } from './project-facts';
import { downloadProducers } from '../dockerfile/download-map';
import { CROSS_OUTPUTS, cargoCrossInputs, goCrossImageFileExclusions, goCrossInputs, goCrossOptions, type Input } from '../project/target-templates';

/**
 * Pure target inference: project facts and plugin options in, Nx targets out.
 *
 * Every per-arch target comes twice: the base target, which takes `--arch`
 * (`nx run-many -t docker-arch-build --arch=arm`), and one fixed variant per
 * configured arch (`docker-arch-build--arm`). Nx keys a task by project and
 * target, so the variants are what lets one task (manifest-push) depend on
 * every arch's build, each cached on its own.
 */
export type { Input } from '../project/target-templates';

export interface ResolvedOptions {
  arches: Arch[];
  defaultArch: Arch;
  names: Record<InferredTarget, string>;
  engine?: 'native' | 'docker' | 'auto';
  registry?: string;
  repositoryPrefix?: string;
  tagScheme?: NxMultiarchPluginOptions['tagScheme'];
  registryMirrors?: Record<string, string[]>;
  baseImages?: Record<string, string>;
  downloads?: Record<string, string>;
  /** Appended to every inferred target's inputs (e.g. the plugin's own sources in its home workspace). */
  extraInputs: Input[];
}

export function resolveOptions(options: NxMultiarchPluginOptions | undefined): ResolvedOptions {
  const arches = options?.arches ? parseArchList(options.arches) : [...DEFAULT_ARCHES];
  let host: Arch | undefined;
  try {
    host = hostArch();
  } catch {
    host = undefined;
  }
  return {
    arches,
    defaultArch: host && arches.includes(host) ? host : arches[0],
    names: {
      'cargo-cross': options?.targetNames?.['cargo-cross'] ?? 'cargo-cross',
      'go-cross': options?.targetNames?.['go-cross'] ?? 'go-cross',
      'docker-arch-build': options?.targetNames?.['docker-arch-build'] ?? 'docker-arch-build',
      'manifest-push': options?.targetNames?.['manifest-push'] ?? 'manifest-push',
      'arch-integration': options?.targetNames?.['arch-integration'] ?? 'arch-integration',
    },
    engine: options?.engine,
    registry: options?.registry,
    repositoryPrefix: options?.repositoryPrefix,
    tagScheme: options?.tagScheme,
    ...(options?.registryMirrors ? { registryMirrors: options.registryMirrors } : {}),
    ...(options?.baseImages ? { baseImages: options.baseImages } : {}),
    ...(options?.downloads ? { downloads: options.downloads } : {}),
    extraInputs: options?.inputs ?? [],
  };
}

/** `docker-arch-build--arm64` */
export function archVariantName(target: string, arch: Arch): string {
  return `${target}--${arch}`;
}

const EXECUTOR = (name: InferredTarget) => `nx-multiarch:${name}`;

function outputsFor(kind: 'cross' | 'images' | 'test-results'): string[] {
  return [`{workspaceRoot}/dist/${kind}/{projectName}/{options.arch}`];
}

/** Targets that run for one arch and so have per-arch variants. */
function perArchTargetNames(options: ResolvedOptions): Set<string> {
  const n = options.names;
  return new Set([n['cargo-cross'], n['go-cross'], n['docker-arch-build'], n['arch-integration']]);
}

/**
 * A dependency written in project.json, as the variant for `arch` needs it: a
 * per-arch target becomes its variant of the same arch (and forwards nothing,
 * the arch being fixed); any other target stays as written.
 */
function declaredDependencyForArch(
  dependency: string | TargetDependencyConfig,
  arch: Arch,
  perArch: Set<string>,
): string | TargetDependencyConfig {
  if (typeof dependency === 'string') {
    const dependencies = dependency.startsWith('^');
    const target = dependencies ? dependency.slice(1) : dependency;
    return perArch.has(target) ? `${dependencies ? '^' : ''}${archVariantName(target, arch)}` : dependency;
  }
  if (!perArch.has(dependency.target)) return dependency;
  const { params: _forwarded, ...rest } = dependency;
  return { ...rest, target: archVariantName(dependency.target, arch) };
}

/**
 * One base target plus its per-arch variants. A variant runs the base
 * target's executor with the base's options and its arch fixed; what
 * project.json says of the target (options, inputs, outputs, cache,
 * dependsOn) applies to the variants too, so they never hash less than it.
 */
function withArchVariants(
  name: string,
  base: TargetConfiguration,
  declared: TargetConfiguration | undefined,
  options: ResolvedOptions,
  variantDependsOn: (arch: Arch) => (string | TargetDependencyConfig)[],
): Record<string, TargetConfiguration> {
  const targets: Record<string, TargetConfiguration> = {
    [name]: { ...base, options: { arch: options.defaultArch, ...base.options } },
  };
  const perArch = perArchTargetNames(options);
  for (const arch of options.arches) {
    const declaredDependsOn = (declared?.dependsOn ?? []).map((d) => declaredDependencyForArch(d, arch, perArch));
    targets[archVariantName(name, arch)] = {
      ...base,
      ...(declared?.executor ? { executor: declared.executor } : {}),
      ...(declared?.cache !== undefined ? { cache: declared.cache } : {}),
      ...(declared?.inputs ? { inputs: declared.inputs } : {}),
      ...(declared?.outputs ? { outputs: declared.outputs } : {}),
      dependsOn: dedupe([...variantDependsOn(arch), ...declaredDependsOn]),
      options: { ...base.options, ...declared?.options, arch },
      metadata: { description: `${name} for ${arch} only` },
    };
  }
  return targets;
}

export function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The runtime input that makes the digest each base tag names now part of
 * the hash (see image/resolve-bases.ts): a moved tag is a cache miss. One
 * command for the target and its variants (every arch), so Nx runs it once
 * per project and run.
 */
export function resolveBasesInput(root: string, target: string, arches: readonly Arch[]): Input {
  return { runtime: `node node_modules/nx-multiarch/bin/nx-multiarch.js resolve-bases --project-root ${root === '' ? '.' : root} --target ${target} --arch ${arches.join(',')}` };
}

export function inferTargets(facts: ProjectFacts, options: ResolvedOptions): Record<string, TargetConfiguration> {
  const n = options.names;
  const declared = facts.declaredTargets;
  const has = (target: string, inferred: boolean) => inferred || declared[target] !== undefined;
  const targets: Record<string, TargetConfiguration> = {};
  const extra = options.extraInputs;

  const hasCargo = has(n['cargo-cross'], facts.cargoPackage);
  const hasGo = has(n['go-cross'], facts.goMain);
  const hasImage = has(n['docker-arch-build'], facts.dockerfile);

  if (hasCargo) {
    Object.assign(
      targets,
      withArchVariants(
        n['cargo-cross'],
        {
          executor: EXECUTOR('cargo-cross'),
          cache: true,
          inputs: ['production', '^production', ...cargoCrossInputs(facts.cargoRoot ?? facts.root), ...extra],
          outputs: [...CROSS_OUTPUTS],
          metadata: { technologies: ['rust'], description: 'Cross-compile and package the Cargo binaries for one arch' },
        },
        declared[n['cargo-cross']],
        options,
        () => [],
      ),
    );
  }

  if (hasGo) {
    const moduleRoot = facts.goModuleRoot ?? facts.root;
    // The same inputs import-repo writes: go.sum, vendor/modules.txt and //go:embed files change the binary too.
    const goOptions: Record<string, unknown> = facts.goMain && moduleRoot !== facts.root ? goCrossOptions(moduleRoot, facts.root) : {};
    const embeds = facts.goPackages?.embeds ?? facts.goEmbeds;
    Object.assign(
      targets,
      withArchVariants(
        n['go-cross'],
        {
          executor: EXECUTOR('go-cross'),
          cache: true,
          inputs: [
            'production',
            ...goCrossImageFileExclusions(facts.root, embeds),
            '^production',
            ...goCrossInputs(moduleRoot, embeds, facts.goPackages?.packageDirs),
            ...extra,
          ],
          outputs: [...CROSS_OUTPUTS],
          options: goOptions,
          metadata: { technologies: ['go'], description: 'Cross-compile the Go main packages for one arch' },
        },
        declared[n['go-cross']],
        options,
        () => [],
      ),
    );
  }

  if (hasImage) {
    const declaredDownloads = declared[n['docker-arch-build']]?.options?.downloads as Record<string, string> | undefined;
    const downloads = { ...(options.downloads ?? {}), ...(declaredDownloads ?? {}) };
    const downloaded = downloadProducers(facts.dockerfileUrls ?? [], downloads);
    const crossDeps = (suffix: (t: string) => string, params: boolean): TargetDependencyConfig[] => {
      const deps: TargetDependencyConfig[] = [];
      const p = params ? ({ params: 'forward' } as const) : {};
      if (hasGo) deps.push({ target: suffix(n['go-cross']), ...p });
      if (hasCargo) deps.push({ target: suffix(n['cargo-cross']), ...p });
      deps.push({ dependencies: true, target: suffix(n['go-cross']), ...p });
      deps.push({ dependencies: true, target: suffix(n['cargo-cross']), ...p });
      // Packages the Dockerfile downloads, built here instead (the downloads option).
      for (const producer of downloaded) deps.push({ projects: [producer.project], target: suffix(producer.target), ...p });
      return deps;
    };
    Object.assign(
      targets,
      withArchVariants(
        n['docker-arch-build'],
        {
          executor: EXECUTOR('docker-arch-build'),
          cache: true,
          dependsOn: crossDeps((t) => t, true),
          inputs: [
            'production',
            { dependentTasksOutputFiles: '**/*', transitive: false },
            { env: 'SOURCE_DATE_EPOCH' },
            { env: 'NX_MULTIARCH_REVISION' },
            { env: 'NX_MULTIARCH_BUILDER_ID' },
            ...(facts.dockerfileHasBase ? [resolveBasesInput(facts.root, n['docker-arch-build'], options.arches)] : []),
            ...extra,
          ],
          outputs: outputsFor('images'),
          options: {
            ...(options.engine ? { engine: options.engine } : {}),
            ...(options.registryMirrors ? { registryMirrors: options.registryMirrors } : {}),
            ...(options.baseImages ? { baseImages: options.baseImages } : {}),
            ...(options.downloads ? { downloads: options.downloads } : {}),
            ...(facts.dockerContext ? { context: facts.dockerContext } : {}),
          },
          metadata: { technologies: ['docker'], description: 'Build the image for one arch into an OCI layout under dist/images' },
        },
        declared[n['docker-arch-build']],
        options,
        (arch) => crossDeps((t) => archVariantName(t, arch), false),
      ),
    );

    const pushOptions: Record<string, unknown> = { arches: options.arches };
    if (options.registry) pushOptions.registry = options.registry;
    if (options.repositoryPrefix) pushOptions.repository = `${options.repositoryPrefix}/${facts.declaredName ?? facts.fallbackName}`;
    if (options.tagScheme === 'git-sha') pushOptions.gitShaTag = true;
    targets[n['manifest-push']] = {
      executor: EXECUTOR('manifest-push'),
      cache: false,
      dependsOn: options.arches.map((arch) => archVariantName(n['docker-arch-build'], arch)),
      options: pushOptions,
      metadata: { technologies: ['docker'], description: 'Push every arch and the multi-arch image index' },
    };
  }

  if (has(n['arch-integration'], facts.integrationTests)) {
    // What the tests run: the project's own image and binaries, and the images of
    // the projects it depends on (the cli's tests talk to the controller image).
    const testDeps = (suffix: (t: string) => string, params: boolean): TargetDependencyConfig[] => {
      const p = params ? ({ params: 'forward' } as const) : {};
      const deps: TargetDependencyConfig[] = [];
      if (hasImage) deps.push({ target: suffix(n['docker-arch-build']), ...p });
      if (hasGo) deps.push({ target: suffix(n['go-cross']), ...p });
      if (hasCargo) deps.push({ target: suffix(n['cargo-cross']), ...p });
      deps.push({ dependencies: true, target: suffix(n['docker-arch-build']), ...p });
      return deps;
    };
    Object.assign(
      targets,
      withArchVariants(
        n['arch-integration'],
        {
          executor: EXECUTOR('arch-integration'),
          cache: true,
          dependsOn: testDeps((t) => t, true),
          inputs: [
            '{projectRoot}/integration/**/*',
            { dependentTasksOutputFiles: '**/*', transitive: false },
            { env: 'NX_MULTIARCH_RUNNER' },
            { env: 'NX_MULTIARCH_DOCKER_HOST' },
            { env: 'NX_MULTIARCH_EMULATE_HOST' },
            ...extra,
          ],
          outputs: outputsFor('test-results'),
          metadata: { description: 'Run the integration tests against the image (or binaries) of one arch' },
        },
        declared[n['arch-integration']],
        options,
        (arch) => testDeps((t) => archVariantName(t, arch), false),
      ),
    );
  }
  return targets;
}
