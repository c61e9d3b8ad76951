import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { formatError, MultiarchError } from '../../errors';
import { parseSingleArch } from '../../platform/parse-arch';
import { platformString } from '../../platform/platforms';
import { runArchIntegration } from '../../integration/run-integration';
import { ENV } from '../../integration/env';
import type { RunnerChoice } from '../../integration/types';

/** Options of the arch-integration executor; schema.json describes each. */
export interface ArchIntegrationOptions {
  arch: string;
  runner?: RunnerChoice;
  dockerHost?: string;
  image?: boolean;
  images?: Record<string, string>;
  binaries?: Record<string, string>;
  testMatch?: string[];
  emulateHost?: boolean;
  testTimeoutMs?: number;
  readyTimeoutMs?: number;
  timeoutMs?: number;
  maxWorkers?: number;
  testHostAddress?: string;
}

const RUNNERS: readonly RunnerChoice[] = ['auto', 'qemu', 'docker', 'remote'];

function checkProjects(context: ExecutorContext, images: Record<string, string>): void {
  const known = context.projectsConfigurations?.projects ?? {};
  for (const [name, project] of Object.entries(images)) {
    if (!known[project]) {
      throw new MultiarchError(`The images option names "${name}": "${project}", which is not a project of this workspace.`, 'Use a project name from `nx show projects`.');
    }
  }
}

export default async function archIntegrationExecutor(options: ArchIntegrationOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const project = context.projectName;
    if (!project) throw new MultiarchError('arch-integration must run as a project target.', 'Run it with nx run <project>:arch-integration --arch=<arch>.');
    const platform = parseSingleArch(options.arch, 'arch-integration');
    // Run-time choice through the environment: nx run-many forwards its flags to the build targets this one depends on.
    const runner = (process.env[ENV.runner] || options.runner || 'auto') as RunnerChoice;
    const dockerHost = process.env[ENV.dockerHost] || options.dockerHost;
    if (!RUNNERS.includes(runner)) throw new MultiarchError(`Unknown runner "${runner}".`, `Use one of: ${RUNNERS.join(', ')} (option runner, or ${ENV.runner}).`);
    const images = options.images ?? {};
    checkProjects(context, images);
    const config = context.projectsConfigurations?.projects[project];
    const projectRoot = join(context.root, config?.root ?? '');
    // A project that builds no image (a CLI shipping binaries) tests its binaries and other projects' images.
    const hasImage = options.image ?? Object.keys(config?.targets ?? {}).some((t) => t === 'docker-arch-build' || t.startsWith('docker-arch-build--'));
    const result = await runArchIntegration({
      workspaceRoot: context.root,
      project,
      projectRoot,
      archGiven: options.arch,
      platform,
      runner,
      image: hasImage,
      images,
      binaries: options.binaries ?? {},
      testMatch: options.testMatch,
      dockerHost,
      emulateHost: options.emulateHost || process.env[ENV.emulateHost] === '1',
      testTimeoutMs: options.testTimeoutMs,
      readyTimeoutMs: options.readyTimeoutMs,
      timeoutMs: options.timeoutMs,
      maxWorkers: options.maxWorkers,
      testHostAddress: options.testHostAddress,
    });
    const c = result.counts;
    console.log(
      `arch-integration ${project} ${platformString(platform.oci)} (${result.runner}): ${c.tests - c.failures - c.errors - c.skipped} passed, ` +
        `${c.failures} failed, ${c.errors} errors, ${c.skipped} skipped in ${c.seconds.toFixed(1)}s -> ${result.junitFile}`,
    );
    return { success: result.success };
  } catch (error) {
    console.error(formatError(error));
    return { success: false };
  }
}
