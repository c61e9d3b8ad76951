import { resolve } from 'node:path';
import { parseSingleArch } from '../platform/parse-arch';
import type { PlatformSpec } from '../platform/platforms';
import { removeOutput } from '../util/atomic';
import { outputDir } from '../outputs/paths';

/** What a cross build knows about the task that runs it. */
export interface CrossBuildContext {
  /** Absolute path of the workspace (the checkout). */
  workspaceRoot: string;
  project: string;
  /** Project root relative to the workspace root. */
  projectRoot: string;
  env: NodeJS.ProcessEnv;
  /** Stream the compiler's output to this process's stdout/stderr. */
  echo: boolean;
  log: (line: string) => void;
}

export interface CrossTarget {
  platform: PlatformSpec;
  /** dist/cross/<project>/<arch as given>: Nx names the cached folder from the raw option. */
  outDir: string;
}

/**
 * Parses the arch (an unknown one fails before anything is touched) and
 * removes the task's stale output, so a build that fails later leaves nothing
 * in dist that Nx or a later step could mistake for a result.
 */
export async function prepareCrossTarget(
  ctx: CrossBuildContext,
  arch: string | undefined,
  target: string,
  folderName: (arch: string, platform: PlatformSpec) => string = (a) => a,
): Promise<CrossTarget> {
  const platform = parseSingleArch(arch, target);
  // parseSingleArch accepted the value, so it is one of the known spellings: safe as a path part.
  const outDir = outputDir(ctx.workspaceRoot, 'cross', ctx.project, folderName(arch as string, platform));
  await removeOutput(outDir);
  return { platform, outDir };
}

/** A folder option relative to the workspace root, defaulting to the project root. */
export function workspacePath(ctx: CrossBuildContext, value: string | undefined): string {
  return resolve(ctx.workspaceRoot, value ?? ctx.projectRoot);
}
