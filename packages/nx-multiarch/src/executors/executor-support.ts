import type { ExecutorContext } from '@nx/devkit';
import type { CrossBuildContext } from '../cross/cross-context';
import { formatError, MultiarchError } from '../errors';

/**
 * Glue shared by the executors: they stay thin (options in, one library call,
 * `{ success }` out), and every failure is printed the same way — the problem,
 * then the fix — instead of a stack trace.
 */
export interface ExecutorResult {
  success: boolean;
}

export async function runExecutor(body: () => Promise<unknown>): Promise<ExecutorResult> {
  try {
    await body();
    return { success: true };
  } catch (error) {
    console.error(formatError(error));
    return { success: false };
  }
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
  const project = projectOf(context);
  return {
    workspaceRoot: context.root,
    project: project.name,
    projectRoot: project.root,
    env: process.env,
    echo: true,
    log: (line) => console.log(line),
  };
}
