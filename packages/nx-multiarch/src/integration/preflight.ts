import { checkBinfmt } from '../docker-daemon/binfmt';
import type { DockerUse } from '../docker-daemon/hints';
import { queryDockerServer, requireDockerCli } from '../docker-daemon/server';
import { MultiarchError } from '../errors';
import { hostArch, platformString, type PlatformSpec } from '../platform/platforms';
import { which } from '../util/exec';
import { qemuMissing } from './runners/qemu';
import { dockerEnv } from './runners/docker';
import type { RunnerName } from './types';

/**
 * Checks, before any test starts, that the chosen runner can work on this
 * machine, each failure a MultiarchError naming the fix: qemu-user-static
 * for the qemu runner, a reachable engine (and binfmt for foreign arches)
 * for docker, and an engine of the right arch for remote.
 */
export interface PreflightRequest {
  runner: RunnerName;
  platform: PlatformSpec;
  dockerHost?: string;
  emulateHost?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where binfmt_misc is mounted (a parameter so tests can point it at a fixture). */
  binfmtDir?: string;
}

/** How the runner's docker errors say what else to do. */
const RUNNER_DOCKER_USE: DockerUse = { alternative: 'or use --runner=qemu, which needs no daemon' };
const REMOTE_DOCKER_USE: DockerUse = { alternative: 'or use --runner=qemu', remote: true };

export function checkQemu(platform: PlatformSpec, env: NodeJS.ProcessEnv, emulateHost = false): void {
  // The host's own arch runs natively (static programs) and needs no qemu unless asked to emulate it.
  if (platform.arch === hostArch() && !emulateHost) return;
  if (!which(`${platform.qemu}-static`, env)) throw qemuMissing(platform);
}

/** The engine's arch in Docker's names (amd64, arm64, arm), or a clear error when it cannot be reached. */
async function dockerServerArch(env: NodeJS.ProcessEnv, use: DockerUse): Promise<string> {
  const cli = requireDockerCli(env, use);
  return (await queryDockerServer(cli, env, use)).dockerArch;
}

export async function preflight(request: PreflightRequest): Promise<void> {
  const env = request.env ?? process.env;
  const { platform } = request;
  if (request.runner === 'qemu') {
    checkQemu(platform, env, request.emulateHost);
    return;
  }
  if (request.runner === 'remote') {
    const dockerHost = request.dockerHost ?? env.DOCKER_HOST;
    if (!dockerHost) {
      throw new MultiarchError(
        `The remote runner needs the docker engine of a native ${platform.arch} machine, and none was given.`,
        `Pass --dockerHost=ssh://user@${platform.arch}-host (or tcp://host:2376), or set DOCKER_HOST.`,
      );
    }
    const arch = await dockerServerArch(dockerEnv({ dockerHost, env }), REMOTE_DOCKER_USE);
    if (arch !== platform.oci.architecture) {
      throw new MultiarchError(
        `The remote engine at ${dockerHost} runs on ${arch}, not ${platform.arch}; the remote runner tests on native hardware only.`,
        `Point --dockerHost at a ${platform.arch} machine, or use --runner=docker or --runner=qemu to emulate ${platform.arch}.`,
      );
    }
    return;
  }
  const arch = await dockerServerArch(dockerEnv({ dockerHost: request.dockerHost, env }), RUNNER_DOCKER_USE);
  if (arch !== platform.oci.architecture) {
    await checkBinfmt(platform.arch, {
      alternative: 'or use --runner=qemu, which needs no binfmt',
      purpose: `The docker runner (${platformString(platform.oci)} containers)`,
      binfmtDir: request.binfmtDir,
    });
  }
}
