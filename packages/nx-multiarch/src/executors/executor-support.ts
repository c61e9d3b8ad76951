import type { ExecutorContext } from '@nx/devkit';
import type { CrossBuildContext } from '../cross/cross-context';
import { formatError, MultiarchError } from '../errors';
import { sweepWorkspaceTemps } from '../util/sweep-workspace';
import { sweepSystemTemps } from '../util/system-temp';

/**
 * Glue shared by the executors: they stay thin (options in, one library call,
 * `{ success }` out), and every failure is printed the same way — the problem,
 * then the fix — instead of a stack trace.
 */
export interface ExecutorResult {
  success: boolean;
}

/**
 * Runs an executor's body. With the Nx context, temporary folders of killed
 * runs anywhere in the workspace's dist/ and .nx-multiarch/tmp, and the
 * plugin's own in the system's temporary directory, are swept first.
 */
export async function runExecutor(body: () => Promise<unknown>, context?: ExecutorContext): Promise<ExecutorResult> {
  try {
    if (context) await sweepTemps(context.root);
    await body();
    return { success: true };
  } catch (error) {
    console.error(formatError(error));
    return { success: false };
  }
}

/** Removes the temporary folders killed runs left in the workspace and in the system's temporary directory, and says which. */
export async function sweepTemps(workspaceRoot: string): Promise<void> {
  const removed = [...(await sweepWorkspaceTemps(workspaceRoot)), ...(await sweepSystemTemps())];
  if (removed.length > 0) console.log(`Removed ${removed.length} temporary folder${removed.length === 1 ? '' : 's'} left by killed runs: ${removed.join(', ')}`);
}

/** The project this task runs for, and its root relative to the workspace. */
export function projectOf(context: ExecutorContext): { name: string; root: string } {
  const name = context.projectName;
  const project = name ? context.projectsConfigurations?.projects[name] : undefined;
  if (!name || !project) {
    throw new MultiarchError(
      `${context.targetName ?? 'This executor'} must run as a target of a project.`,
      'Run it through Nx: npx nx run <project>:<target> --arch=<arch>.',
    );
  }
  return { name, root: project.root };
}

/** The cross-build context of an Nx task: output streams to the terminal Nx shows and caches. */
export function crossContext(context: ExecutorContext): CrossBuildContext {
  return crossContextOf(context.root, projectOf(context), { echo: true, log: (line) => console.log(line) });
}

/**
 * The cross-build context of a project's task, with its output going where
 * `output` says: streamed for a task of its own, kept in the task's log in a
 * batch (where builds that run at once must not interleave).
 */
export function crossContextOf(workspaceRoot: string, project: { name: string; root: string }, output: Pick<CrossBuildContext, 'echo' | 'log'>): CrossBuildContext {
  return { workspaceRoot, project: project.name, projectRoot: project.root, env: process.env, ...output };
}
