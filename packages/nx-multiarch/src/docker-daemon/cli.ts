import { realpathSync, statSync } from 'node:fs';
import { delimiter, join, isAbsolute } from 'node:path';
import { MultiarchError } from '../errors';
import { run } from '../util/exec';
import { installCliHint } from './hints';

/**
 * Which docker client to drive, and how it reaches BuildKit.
 *
 * - `buildx`: the buildx plugin is installed; `docker buildx build --output
 *   type=oci` writes an OCI layout archive directly.
 * - `builtin`: a client older than 23.0 runs BuildKit inside dockerd itself
 *   with `DOCKER_BUILDKIT=1 docker build`. Clients from 23.0 on refuse that
 *   without buildx ("BuildKit is enabled but the buildx component is missing"),
 *   which is why every docker on PATH is probed, not just the first.
 */
export type BuildKitMode = 'buildx' | 'builtin';

export interface DockerCli {
  /** Absolute path of the client binary. */
  path: string;
  /** e.g. `20.10.24+dfsg1`. */
  version: string;
  /** How this client reaches BuildKit; undefined when it cannot. */
  buildKit?: BuildKitMode;
  /** buildx knows `--provenance`/`--sbom` (it adds attestations unless told not to). */
  buildxAttestationFlags: boolean;
}

/** Names a client explicitly, instead of searching PATH. */
export const DOCKER_CLI_ENV = 'NX_MULTIARCH_DOCKER_CLI';

/** The first client version whose `docker build` needs buildx for BuildKit. */
const BUILDX_REQUIRED_FROM_MAJOR = 23;

const PROBE_TIMEOUT_MS = 20_000;

/** Every `docker` on PATH, in PATH order, without repeats of the same file. */
export function dockerClisOnPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, 'docker');
    try {
      if (!statSync(candidate).isFile()) continue;
      const real = realpathSync(candidate);
      if (seen.has(real)) continue;
      seen.add(real);
      found.push(candidate);
    } catch {
      // no docker in this folder
    }
  }
  return found;
}

/** `Docker version 20.10.24+dfsg1, build 5d6db84` → `20.10.24+dfsg1`. */
export function parseClientVersion(output: string): string | undefined {
  return /version\s+v?([0-9]+\.[0-9]+[^\s,]*)/i.exec(output)?.[1];
}

export function majorVersion(version: string): number {
  return Number.parseInt(version.split('.')[0], 10);
}

/** Asks one client what it is and whether it can reach BuildKit (no daemon needed). */
export async function probeDockerCli(path: string, env: NodeJS.ProcessEnv = process.env): Promise<DockerCli> {
  const versionResult = await run(path, ['--version'], { env, timeoutMs: PROBE_TIMEOUT_MS });
  const version = parseClientVersion(versionResult.stdout) ?? 'unknown';
  const buildx = await run(path, ['buildx', 'version'], { env, timeoutMs: PROBE_TIMEOUT_MS });
  if (buildx.exitCode === 0) {
    const help = await run(path, ['buildx', 'build', '--help'], { env, timeoutMs: PROBE_TIMEOUT_MS });
    return { path, version, buildKit: 'buildx', buildxAttestationFlags: help.stdout.includes('--provenance') };
  }
  const major = majorVersion(version);
  const builtin = Number.isFinite(major) && major < BUILDX_REQUIRED_FROM_MAJOR;
  return { path, version, buildKit: builtin ? 'builtin' : undefined, buildxAttestationFlags: false };
}

/**
 * The client to build with: the one named by NX_MULTIARCH_DOCKER_CLI, else the
 * first docker on PATH that can reach BuildKit.
 */
export async function selectDockerCli(env: NodeJS.ProcessEnv = process.env): Promise<DockerCli> {
  const named = env[DOCKER_CLI_ENV];
  const candidates = named ? [named] : dockerClisOnPath(env);
  if (candidates.length === 0) {
    throw new MultiarchError('The docker CLI is not on PATH.', installCliHint({ alternative: 'or build with --engine=native, which needs no docker' }));
  }
  const probed: DockerCli[] = [];
  for (const path of candidates) {
    const cli = await probeDockerCli(path, env);
    if (cli.buildKit) return cli;
    probed.push(cli);
  }
  const seen = probed.map((c) => `${c.path} (${c.version})`).join(', ');
  throw new MultiarchError(
    `No docker client here can build with BuildKit: ${seen} has no buildx plugin, and docker clients from ${BUILDX_REQUIRED_FROM_MAJOR}.0 on need buildx for BuildKit.`,
    `Install the buildx plugin (Debian: docker-buildx), or point ${DOCKER_CLI_ENV} at a docker client older than ${BUILDX_REQUIRED_FROM_MAJOR}.0 (Debian 12's docker.io 20.10 client, /usr/bin/docker), or build with --engine=native.`,
  );
}
