import { MultiarchError } from '../errors';
import { parseArch } from '../platform/parse-arch';
import type { Arch } from '../platform/platforms';
import type { RunnerName } from './types';

/**
 * The contract between the arch-integration executor and the tests it runs:
 * everything a test needs arrives in these environment variables, so a test
 * file is plain Jest and can also be run by hand with the variables set.
 */
export const ENV = {
  project: 'NX_MULTIARCH_PROJECT',
  /** The arch under test, in the platform table's names (amd64, arm64, arm). */
  arch: 'NX_MULTIARCH_ARCH',
  /** The --arch value as given, which names the dist/ folders (arm, arm/v7, ...). */
  archGiven: 'NX_MULTIARCH_ARCH_GIVEN',
  /** The workspace root, where dist/images and dist/cross are. */
  workspaceRoot: 'NX_MULTIARCH_WORKSPACE_ROOT',
  /** The OCI platform of the arch (linux/arm/v7). */
  platform: 'NX_MULTIARCH_PLATFORM',
  runner: 'NX_MULTIARCH_RUNNER',
  /** The project's own image folder (OCI layout) for the arch; unset for a project without an image. */
  imageLayout: 'NX_MULTIARCH_IMAGE_LAYOUT',
  /** JSON object: name -> image folder, for the other images a test starts (e.g. the controller for the cli). */
  images: 'NX_MULTIARCH_IMAGES',
  /** JSON object: name -> path of a per-arch binary (e.g. linkerd from dist/cross/linkerd2-cli/<arch>/). */
  binaries: 'NX_MULTIARCH_BINARIES',
  /** Folder for unpacked filesystems and other scratch files; the executor removes it afterwards. */
  workDir: 'NX_MULTIARCH_WORK_DIR',
  /** DOCKER_HOST of the engine the docker and remote runners use. */
  dockerHost: 'NX_MULTIARCH_DOCKER_HOST',
  /** "1" to run host-arch images through qemu too. */
  emulateHost: 'NX_MULTIARCH_EMULATE_HOST',
  /** Default bound of the readiness waits, in milliseconds. */
  readyTimeoutMs: 'NX_MULTIARCH_READY_TIMEOUT_MS',
  /** Address of the machine running the tests as the image's processes see it (loopback unless remote). */
  testHostAddress: 'NX_MULTIARCH_TEST_HOST_ADDRESS',
} as const;

export interface TestContext {
  project?: string;
  arch: Arch;
  /** The arch as given to the target (names the dist/ folders); the canonical name when unset. */
  archGiven?: string;
  /** Where dist/ is, for images and binaries of other projects. */
  workspaceRoot?: string;
  platform: string;
  runner: RunnerName;
  imageLayout?: string;
  images: Record<string, string>;
  binaries: Record<string, string>;
  workDir?: string;
  dockerHost?: string;
  emulateHost: boolean;
  readyTimeoutMs?: number;
  testHostAddress: string;
}

const RUNNERS: readonly RunnerName[] = ['qemu', 'docker', 'remote'];

function jsonMap(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const text = env[name];
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')) {
      return value as Record<string, string>;
    }
  } catch {
    // reported below
  }
  throw new MultiarchError(`${name} must be a JSON object of strings, got: ${text}`, 'Let the arch-integration executor set it, or fix the value.');
}

export function encodeTestContext(context: TestContext): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.arch]: context.arch,
    [ENV.platform]: context.platform,
    [ENV.runner]: context.runner,
    [ENV.images]: JSON.stringify(context.images),
    [ENV.binaries]: JSON.stringify(context.binaries),
    [ENV.emulateHost]: context.emulateHost ? '1' : '0',
    [ENV.testHostAddress]: context.testHostAddress,
  };
  if (context.project) env[ENV.project] = context.project;
  if (context.archGiven) env[ENV.archGiven] = context.archGiven;
  if (context.workspaceRoot) env[ENV.workspaceRoot] = context.workspaceRoot;
  if (context.imageLayout) env[ENV.imageLayout] = context.imageLayout;
  if (context.workDir) env[ENV.workDir] = context.workDir;
  if (context.dockerHost) env[ENV.dockerHost] = context.dockerHost;
  if (context.readyTimeoutMs) env[ENV.readyTimeoutMs] = String(context.readyTimeoutMs);
  return env;
}

/** Reads the context a test runs under; a test run outside the executor gets a clear error naming the variables. */
export function decodeTestContext(env: NodeJS.ProcessEnv = process.env): TestContext {
  const archText = env[ENV.arch];
  if (!archText) {
    throw new MultiarchError(
      `${ENV.arch} is not set: this test expects to run under the arch-integration executor.`,
      `Run it with \`nx run <project>:arch-integration --arch=<arch>\`, or set ${ENV.arch} and ${ENV.imageLayout} by hand.`,
    );
  }
  const arch = parseArch(archText);
  const runnerText = env[ENV.runner] ?? 'qemu';
  if (!RUNNERS.includes(runnerText as RunnerName)) {
    throw new MultiarchError(`${ENV.runner}="${runnerText}" is not a runner.`, `Use one of: ${RUNNERS.join(', ')}.`);
  }
  const timeout = env[ENV.readyTimeoutMs] ? Number(env[ENV.readyTimeoutMs]) : undefined;
  return {
    project: env[ENV.project],
    arch,
    archGiven: env[ENV.archGiven] || undefined,
    workspaceRoot: env[ENV.workspaceRoot] || undefined,
    platform: env[ENV.platform] ?? '',
    runner: runnerText as RunnerName,
    imageLayout: env[ENV.imageLayout] || undefined,
    images: jsonMap(env, ENV.images),
    binaries: jsonMap(env, ENV.binaries),
    workDir: env[ENV.workDir] || undefined,
    dockerHost: env[ENV.dockerHost] || undefined,
    emulateHost: env[ENV.emulateHost] === '1',
    readyTimeoutMs: timeout && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    testHostAddress: env[ENV.testHostAddress] || '127.0.0.1',
  };
}
