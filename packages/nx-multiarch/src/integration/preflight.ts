import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { hostArch, platformString, type PlatformSpec } from '../platform/platforms';
import { run, which } from '../util/exec';
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

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
const DOCKER_PROBE_TIMEOUT_MS = 20_000;

export function checkQemu(platform: PlatformSpec, env: NodeJS.ProcessEnv, emulateHost = false): void {
  // The host's own arch runs natively (static programs) and needs no qemu unless asked to emulate it.
  if (platform.arch === hostArch() && !emulateHost) return;
  if (!which(`${platform.qemu}-static`, env)) throw qemuMissing(platform);
}

function binfmtHint(platform: PlatformSpec, binfmtDir: string): string {
  return (
    `Register it (as root): \`mount -t binfmt_misc binfmt_misc ${binfmtDir}\` if it is not mounted, then ` +
    `\`cat /usr/lib/binfmt.d/${platform.qemu}.conf > ${binfmtDir}/register\` (from qemu-user-static), ` +
    `or run \`bash tools/setup.sh\`; or use --runner=qemu, which needs no binfmt.`
  );
}

/** A local engine runs a foreign image through the kernel's binfmt_misc entry for that arch's qemu. */
export async function checkBinfmt(platform: PlatformSpec, binfmtDir = BINFMT_DIR): Promise<void> {
  const entry = join(binfmtDir, platform.qemu);
  let text: string;
  try {
    text = await readFile(entry, 'utf8');
  } catch {
    throw new MultiarchError(`binfmt_misc has no ${platform.qemu} entry (${entry}), so docker cannot run ${platformString(platform.oci)} containers.`, binfmtHint(platform, binfmtDir));
  }
  if (!/^enabled$/m.test(text)) {
    throw new MultiarchError(`The binfmt_misc entry ${entry} is disabled.`, `Enable it with \`echo 1 > ${entry}\` (as root).`);
  }
  const flags = /^flags:\s*(\S*)/m.exec(text)?.[1] ?? '';
  if (!flags.includes('F')) {
    // Without F the kernel opens the interpreter path inside the container, where there is no qemu.
    throw new MultiarchError(
      `The binfmt_misc entry ${entry} lacks the F (fix binary) flag, so containers cannot find the interpreter.`,
      `Re-register it with the F flag: \`echo -1 > ${entry}\`, then \`cat /usr/lib/binfmt.d/${platform.qemu}.conf > ${binfmtDir}/register\`.`,
    );
  }
}

/** The engine's arch in Docker's names (amd64, arm64, arm), or a clear error when it cannot be reached. */
export async function dockerServerArch(env: NodeJS.ProcessEnv, remote: boolean): Promise<string> {
  if (!which('docker', env)) {
    throw new MultiarchError('The docker CLI is not on PATH.', 'Install it with `apt-get install docker.io` (or run `bash tools/setup.sh`), or use --runner=qemu.');
  }
  const where = env.DOCKER_HOST ? `at ${env.DOCKER_HOST}` : '(default socket)';
  const result = await run('docker', ['version', '--format', '{{.Server.Arch}}'], { env, timeoutMs: DOCKER_PROBE_TIMEOUT_MS });
  const arch = result.stdout.trim();
  if (result.exitCode !== 0 || arch === '') {
    const why = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${result.exitCode}`;
    throw new MultiarchError(
      `The docker engine ${where} is not reachable: ${why}`,
      remote
        ? 'Check that the remote machine runs dockerd and that DOCKER_HOST (or --dockerHost) reaches it, e.g. ssh://user@arm64-host.'
        : 'Start dockerd (see README: tools/ starts one with its own socket) and point DOCKER_HOST at its socket, or use --runner=qemu, which needs no daemon.',
    );
  }
  return arch;
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
    const arch = await dockerServerArch(dockerEnv({ dockerHost, env }), true);
    if (arch !== platform.oci.architecture) {
      throw new MultiarchError(
        `The remote engine at ${dockerHost} runs on ${arch}, not ${platform.arch}; the remote runner tests on native hardware only.`,
        `Point --dockerHost at a ${platform.arch} machine, or use --runner=docker or --runner=qemu to emulate ${platform.arch}.`,
      );
    }
    return;
  }
  const arch = await dockerServerArch(dockerEnv({ dockerHost: request.dockerHost, env }), false);
  if (arch !== platform.oci.architecture) await checkBinfmt(platform, request.binfmtDir);
}
