import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../../errors';
import { platformString, PlatformSpec } from '../../platform/platforms';
import { run, runChecked, RunResult } from '../../util/exec';
import { requestDockerfile, type BuildEngine, type BuildRequest, type BuildResult } from '../common/engine';
import { readBuiltImageArchive } from '../../oci/docker-archive/read';
import type { DockerCli } from '../../docker-daemon/cli';
import { writeBuiltImageLayout } from './layout';
import { dockerPreflight } from './preflight';
import { makeSystemTempDir } from '../../util/system-temp';

/**
 * The `docker` engine: a real dockerd builds the Dockerfile (so RUN works,
 * under binfmt/qemu for a foreign arch), and the result is converted to the
 * same OCI layout the native engine writes, so manifest-push and the Nx cache
 * cannot tell the engines apart. Nothing is left in the daemon: the image is
 * built under a temporary tag that is removed afterwards, also on failure.
 *
 * With buildx, `--output type=oci` writes the layout archive directly;
 * without it (Debian 12's docker.io 20.10), BuildKit inside dockerd builds
 * (`DOCKER_BUILDKIT=1 docker build`) and `docker save` hands the image out.
 */
export interface DockerEngineOptions {
  /** Environment of the docker client (DOCKER_HOST and such); defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Stream the build log to this process's terminal. */
  echo?: boolean;
  /** Build without the daemon's layer cache. */
  noCache?: boolean;
  /**
   * Network of RUN steps. `host` by default: daemons started without a bridge
   * (as on this project's CI machines) offer only host and none, and host lets
   * RUN reach a loopback registry or proxy.
   */
  network?: 'host' | 'none';
  /** binfmt_misc folder to check (tests point it elsewhere). */
  binfmtDir?: string;
}

/** Build args BuildKit derives from --platform itself. */
const PREDEFINED_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];

function predefinedTargetArgs(platform: PlatformSpec): Record<string, string> {
  return {
    TARGETPLATFORM: platformString(platform.oci),
    TARGETOS: platform.oci.os,
    TARGETARCH: platform.oci.architecture,
    TARGETVARIANT: platform.oci.variant ?? '',
  };
}

/**
 * `--build-arg`s for the request: SOURCE_DATE_EPOCH first, then the user's in
 * name order. A predefined arg may be passed only with the value BuildKit
 * would give it anyway; anything else is a contradiction we refuse.
 */
export function dockerBuildArgs(request: Pick<BuildRequest, 'buildArgs' | 'platform' | 'sourceDateEpoch'>): string[] {
  const target = predefinedTargetArgs(request.platform);
  const args = ['--build-arg', `SOURCE_DATE_EPOCH=${request.sourceDateEpoch}`];
  for (const name of Object.keys(request.buildArgs).sort()) {
    const value = request.buildArgs[name];
    if (name === 'SOURCE_DATE_EPOCH') {
      if (value !== String(request.sourceDateEpoch)) {
        throw new MultiarchError(
          `buildArgs sets SOURCE_DATE_EPOCH=${value} but the build's sourceDateEpoch is ${request.sourceDateEpoch}.`,
          'Set the sourceDateEpoch option instead of a SOURCE_DATE_EPOCH build arg.',
        );
      }
      continue;
    }
    if (PREDEFINED_ARGS.includes(name)) {
      if (target[name] === value) continue;
      throw new MultiarchError(
        `buildArgs sets ${name}=${value}, but BuildKit sets ${name} itself from the platform (${platformString(request.platform.oci)}).`,
        `Remove ${name} from buildArgs; choose the platform with --arch.`,
      );
    }
    args.push('--build-arg', `${name}=${value}`);
  }
  return args;
}

export function dockerLabelArgs(labels: Record<string, string>): string[] {
  return Object.keys(labels)
    .sort()
    .flatMap((name) => ['--label', `${name}=${labels[name]}`]);
}

/** A hint for the failures a user can do something about. */
export function buildFailureHint(output: string, platform: PlatformSpec): string {
  if (/exec format error/i.test(output)) {
    return `The daemon cannot run ${platform.arch} binaries: register binfmt with \`bash tools/services.sh start binfmt\`, or move that RUN work into a cross-compile step.`;
  }
  if (/pull access denied|failed to resolve|no such host|dial tcp|failed to do request|not found: manifest unknown/i.test(output)) {
    return 'A base image could not be found or pulled. Nothing can be pulled from the internet here: build the base into the daemon first, or serve it from a loopback registry.';
  }
  if (/failed to compute cache key|failed to walk|not found: not found/i.test(output)) {
    return 'A COPY/ADD source is missing from the build context: check the path (it is relative to the context folder); files built by another project are staged with the artifacts option.';
  }
  if (/network bridge not found/i.test(output)) {
    return 'The daemon has no bridge network; the docker engine runs RUN with --network host or none.';
  }
  return 'Read the build log above; the failing step is the last one shown.';
}

export class DockerEngine implements BuildEngine {
  readonly name = 'docker' as const;

  constructor(private readonly options: DockerEngineOptions = {}) {}

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    const { cli } = await dockerPreflight({
      dockerfile: await requestDockerfile(request),
      platform: request.platform,
      env: this.env,
      binfmtDir: this.options.binfmtDir,
    });
    const workDir = await makeSystemTempDir('docker');
    try {
      const archive = join(workDir, 'image.tar');
      await this.buildArchive(cli, request, archive);
      const image = await readBuiltImageArchive(archive, request.platform.oci);
      const { manifest, config, layers } = await writeBuiltImageLayout(image, {
        platform: request.platform,
        sourceDateEpoch: request.sourceDateEpoch,
        tags: request.tags,
        layoutDir: request.layoutDir,
      });
      return { manifest, config, layers };
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** The arguments every build variant shares, context last. */
  private commonArgs(request: BuildRequest): string[] {
    return [
      '--platform',
      platformString(request.platform.oci),
      '--network',
      this.options.network ?? 'host',
      '--progress',
      'plain',
      ...(this.options.noCache ? ['--no-cache'] : []),
      ...dockerBuildArgs(request),
      ...dockerLabelArgs(request.labels),
      '--file',
      request.dockerfile,
      request.contextDir,
    ];
  }

  private async buildArchive(cli: DockerCli, request: BuildRequest, archive: string): Promise<void> {
    if (cli.buildKit === 'buildx') {
      const attestations = cli.buildxAttestationFlags ? ['--provenance=false', '--sbom=false'] : [];
      const oci = await this.runBuild(cli, ['buildx', 'build', '--output', `type=oci,dest=${archive}`, ...attestations, ...this.commonArgs(request)]);
      if (oci.exitCode === 0) return;
      // buildx's default "docker" driver cannot export OCI unless the daemon
      // uses the containerd image store: load into the daemon and save instead.
      if (!/not supported for the docker driver|docker driver.*not support/i.test(oci.stderr)) throw this.buildError(cli, oci, request);
      await this.buildTagSaveRemove(cli, request, archive, (tag) => ['buildx', 'build', '--load', '--tag', tag, ...this.commonArgs(request)]);
      return;
    }
    await this.buildTagSaveRemove(cli, request, archive, (tag) => ['build', '--tag', tag, ...this.commonArgs(request)]);
  }

  /** Builds under a unique temporary tag, saves it, and removes the tag whatever happens. */
  private async buildTagSaveRemove(cli: DockerCli, request: BuildRequest, archive: string, buildArgs: (tag: string) => string[]): Promise<void> {
    const tag = `nx-multiarch-tmp/${request.platform.arch}:${randomBytes(8).toString('hex')}`;
    try {
      const built = await this.runBuild(cli, buildArgs(tag));
      if (built.exitCode !== 0) throw this.buildError(cli, built, request);
      await runChecked(cli.path, ['save', '--output', archive, tag], {
        env: this.env,
        what: `docker save ${tag}`,
        hint: 'The daemon could not export the image it just built; check its log and free disk space.',
      });
    } finally {
      // Fails with "No such image" when the build failed before tagging: nothing to remove then.
      await run(cli.path, ['rmi', tag], { env: this.env });
    }
  }

  private runBuild(cli: DockerCli, args: string[]): Promise<RunResult> {
    return run(cli.path, args, {
      env: { ...this.env, DOCKER_BUILDKIT: '1' },
      echo: this.options.echo ?? false,
    });
  }

  private buildError(cli: DockerCli, result: RunResult, request: BuildRequest): MultiarchError {
    const tail = result.stderr.trim().split('\n').slice(-25).join('\n');
    return new MultiarchError(
      `docker build of ${request.dockerfileLabel ?? request.dockerfile} for ${platformString(request.platform.oci)} failed (${cli.path} ${cli.version}, exit code ${result.exitCode}):\n${tail}`,
      buildFailureHint(result.stderr, request.platform),
    );
  }
}

/** The engine docker-arch-build uses for `engine: docker`; it shows the build log as it runs. */
export const dockerEngine: BuildEngine = new DockerEngine({ echo: true });
