import type { ParsedDockerfile, StageOutline } from '../../dockerfile/parse';
import { MultiarchError } from '../../errors';
import type { Arch, PlatformSpec } from '../../platform/platforms';
import { parseArch } from '../../platform/parse-arch';
import { checkBinfmt } from '../../docker-daemon/binfmt';
import { selectDockerCli, type DockerCli } from '../../docker-daemon/cli';
import { startDaemonHint, type DockerUse } from '../../docker-daemon/hints';
import { daemonIsLocal, describeDockerHost, queryDockerServer, type DockerServerInfo } from '../../docker-daemon/server';

/**
 * Everything the docker engine needs before it starts a build, each checked
 * on its own so a failure names the one thing to fix: a client, a daemon that
 * answers, BuildKit, and binfmt when RUN executes foreign binaries.
 */
export interface DockerPreflightOptions {
  /** The Dockerfile as docker-arch-build parsed it (every stage). */
  dockerfile: ParsedDockerfile;
  platform: PlatformSpec;
  env?: NodeJS.ProcessEnv;
  /** Where the kernel lists binfmt_misc registrations (a parameter so tests can point elsewhere). */
  binfmtDir?: string;
}

export interface DockerPreflightResult {
  cli: DockerCli;
  server: DockerServerInfo;
}

/** Docker API 1.39 (engine 18.09) is the first with BuildKit in the daemon. */
const MIN_BUILDKIT_API = [1, 39] as const;

/** How the engine's docker errors say what else to do. */
export const ENGINE_DOCKER_USE: DockerUse = { alternative: 'or build with --engine=native, which needs no daemon' };

function apiAtLeast(apiVersion: string, minimum: readonly [number, number]): boolean {
  const [major, minor] = apiVersion.split('.').map((p) => Number.parseInt(p, 10));
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

export function checkServerCanBuild(server: DockerServerInfo, env: NodeJS.ProcessEnv): void {
  if (server.os !== 'linux') {
    throw new MultiarchError(
      `The docker daemon at ${describeDockerHost(env)} runs ${server.os} containers; linux images need a linux daemon.`,
      startDaemonHint(ENGINE_DOCKER_USE),
    );
  }
  if (!apiAtLeast(server.apiVersion, MIN_BUILDKIT_API)) {
    throw new MultiarchError(
      `The docker daemon at ${describeDockerHost(env)} is ${server.version} (API ${server.apiVersion}), too old for BuildKit (needs API ${MIN_BUILDKIT_API.join('.')}, engine 18.09).`,
      'Upgrade the docker engine, or build with --engine=native.',
    );
  }
}

/**
 * The arch a stage's RUN lines execute as: the build machine's for
 * `FROM --platform=$BUILDPLATFORM` (the cross-compile pattern), a literal
 * platform's, else the target's. A variable we cannot resolve counts as the
 * target, which is the cautious answer.
 */
export function stageRunArch(stage: StageOutline, target: Arch, buildArch: Arch | undefined): Arch | undefined {
  const flag = stage.rawPlatform?.trim();
  if (!flag) return target;
  if (/\$\{?BUILDPLATFORM\}?/.test(flag) || /\$\{?BUILDARCH\}?/.test(flag)) return buildArch;
  if (flag.includes('$')) return target;
  try {
    return parseArch(flag);
  } catch {
    return target;
  }
}

/**
 * `FROM oci-layout://…` is the native engine's way to name a base in the
 * workspace; BuildKit in engine 20.10 has no such source.
 */
export function firstLayoutFrom(dockerfile: ParsedDockerfile): { line: number; image: string } | undefined {
  const stage = dockerfile.stages.find((s) => s.rawImage.startsWith('oci-layout://'));
  return stage ? { line: stage.fromLine, image: stage.rawImage } : undefined;
}

export interface ForeignRun {
  arch: Arch;
  line: number;
}

/** The first RUN line that executes binaries of an arch other than the daemon's. */
export function firstForeignRun(dockerfile: ParsedDockerfile, target: Arch, daemonArch: Arch | undefined): ForeignRun | undefined {
  for (const stage of dockerfile.stages) {
    if (stage.runLines.length === 0) continue;
    const arch = stageRunArch(stage, target, daemonArch);
    if (arch && arch !== daemonArch) return { arch, line: stage.runLines[0] };
  }
  return undefined;
}

export async function dockerPreflight(options: DockerPreflightOptions): Promise<DockerPreflightResult> {
  const env = options.env ?? process.env;
  const cli = await selectDockerCli(env);
  const server = await queryDockerServer(cli.path, env, ENGINE_DOCKER_USE);
  checkServerCanBuild(server, env);

  const layoutFrom = firstLayoutFrom(options.dockerfile);
  if (layoutFrom) {
    throw new MultiarchError(
      `${options.dockerfile.name} line ${layoutFrom.line}: FROM ${layoutFrom.image} is a native-engine base; the docker daemon cannot read an OCI layout folder.`,
      'Build with --engine=native, or push the base to a loopback registry (manifest-push) and write FROM 127.0.0.1:<port>/<name>:<tag>.',
    );
  }
  const foreign = firstForeignRun(options.dockerfile, options.platform.arch, server.arch);
  // A remote daemon's binfmt cannot be seen from here; its build log will say.
  if (foreign && daemonIsLocal(env)) {
    await checkBinfmt(foreign.arch, {
      ...ENGINE_DOCKER_USE,
      alternative: 'or make that work a cross-compile step and build with --engine=native',
      purpose: `${options.dockerfile.name} runs ${foreign.arch} binaries (RUN on line ${foreign.line})`,
      binfmtDir: options.binfmtDir,
    });
  }
  return { cli, server };
}
