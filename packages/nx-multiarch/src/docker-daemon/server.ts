import { MultiarchError } from '../errors';
import { parseArch } from '../platform/parse-arch';
import type { Arch } from '../platform/platforms';
import { run } from '../util/exec';
import { dockerClisOnPath, DOCKER_CLI_ENV } from './cli';
import { installCliHint, startDaemonHint, type DockerUse } from './hints';

/**
 * The docker daemon a client reaches (DOCKER_HOST or the default socket):
 * whether it answers, its version and platform. Used by the docker engine
 * before a build and by the docker and remote runners before a test.
 */
export interface DockerServerInfo {
  version: string;
  apiVersion: string;
  os: string;
  /** The daemon machine's arch as docker names it (`amd64`, `arm64`, `arm`). */
  dockerArch: string;
  /** The same in the platform table's names (undefined if not in the table). */
  arch?: Arch;
}

const DAEMON_TIMEOUT_MS = 20_000;

export function describeDockerHost(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : 'the default socket (DOCKER_HOST is not set)';
}

/** The daemon shares this machine's kernel (and so its binfmt_misc) only over a unix socket. */
export function daemonIsLocal(env: NodeJS.ProcessEnv): boolean {
  const host = env.DOCKER_HOST;
  return !host || host.startsWith('unix://') || host.startsWith('/');
}

/** The client named by NX_MULTIARCH_DOCKER_CLI, else the first docker on PATH; a clear error when there is none. */
export function requireDockerCli(env: NodeJS.ProcessEnv, use: DockerUse): string {
  const named = env[DOCKER_CLI_ENV];
  const path = named ?? dockerClisOnPath(env)[0];
  if (!path) throw new MultiarchError('The docker CLI is not on PATH.', installCliHint(use));
  return path;
}

/** The daemon's version and platform, or a MultiarchError saying it does not answer and how to start one. */
export async function queryDockerServer(cliPath: string, env: NodeJS.ProcessEnv, use: DockerUse): Promise<DockerServerInfo> {
  const format = '{{.Server.Version}}|{{.Server.APIVersion}}|{{.Server.Os}}|{{.Server.Arch}}';
  const result = await run(cliPath, ['version', '--format', format], { env, timeoutMs: DAEMON_TIMEOUT_MS });
  const [version, apiVersion, os, dockerArch] = result.stdout.trim().split('|');
  if (result.exitCode !== 0 || !version || !apiVersion) {
    const why = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${result.exitCode}`;
    throw new MultiarchError(`The docker daemon at ${describeDockerHost(env)} does not answer: ${why}`, startDaemonHint(use));
  }
  let arch: Arch | undefined;
  try {
    arch = parseArch(dockerArch ?? '');
  } catch {
    arch = undefined;
  }
  return { version, apiVersion, os, dockerArch: dockerArch ?? '', arch };
}
