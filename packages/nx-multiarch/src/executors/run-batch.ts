import type { ExecutorContext, TaskGraph, TaskGraphExecutor } from '@nx/devkit';
import { formatError, MultiarchError } from '../errors';
import { sweepTemps } from './executor-support';

/**
 * Many tasks of one executor in one process (Nx's batch mode, an executor's
 * `batchImplementation`): Nx starts one process and the plugin is loaded
 * once, instead of once per task.
 *
 * Each task's result is yielded as soon as it is known, because Nx prints a
 * batch task's output from what is yielded (a batch that returns one record
 * at the end has its tasks marked done with nothing printed). Each task
 * writes only to its own output, never to the shared stdout, so lines of
 * tasks that run at once do not interleave and nothing is printed twice.
 */

/** One task's result as Nx's batch runner takes it from an async iterator. */
export type BatchTaskResult = Extract<Awaited<ReturnType<TaskGraphExecutor>>, AsyncIterableIterator<unknown>> extends AsyncIterableIterator<infer R> ? R : never;

/** What a task of the batch needs: its options, its project, and where its output goes. */
export interface BatchTask<O> {
  id: string;
  options: O;
  project: { name: string; root: string };
  log: (line: string) => void;
}

/**
 * Runs the batch's tasks, at most `concurrency` at once, each after the
 * tasks of the batch it depends on. One task's failure fails that task and
 * skips the tasks of the batch that depend on it; the others run on.
 */
export async function* runBatch<O>(
  taskGraph: TaskGraph,
  inputs: Record<string, O>,
  context: ExecutorContext,
  concurrency: number,
  runTask: (task: BatchTask<O>) => Promise<void>,
): AsyncGenerator<BatchTaskResult> {
  // Said on the worker's log, not in a task's output: Nx keeps that log when something fails.
  await sweepTemps(context.root);

  const waiting = Object.keys(inputs);
  const done = new Map<string, boolean>();
  const running = new Map<string, Promise<BatchTaskResult>>();
  // Dependencies outside the batch have completed before Nx formed it.
  const depsInBatch = (id: string): string[] => (taskGraph.dependencies[id] ?? []).map((edge) => edge.id).filter((dep) => dep in inputs);

  const runOne = async (id: string): Promise<BatchTaskResult> => {
    const lines: string[] = [];
    const startTime = Date.now();
    let success = true;
    try {
      const name = taskGraph.tasks[id]?.target.project;
      const root = name ? context.projectsConfigurations?.projects[name]?.root : undefined;
      if (!name || root === undefined) throw new MultiarchError(`Task ${id} has no project in the workspace.`, 'Run it through Nx: npx nx run <project>:<target>.');
      await runTask({ id, options: inputs[id], project: { name, root }, log: (line) => lines.push(line) });
    } catch (error) {
      success = false;
      lines.push(formatError(error));
    }
    return { task: id, result: { success, terminalOutput: lines.length > 0 ? `${lines.join('\n')}\n` : '', startTime, endTime: Date.now() } };
  };

  while (waiting.length > 0 || running.size > 0) {
    // Tasks whose batch dependencies failed never run; Nx shows them as skipped.
    const blocked = waiting.filter((id) => depsInBatch(id).some((dep) => done.get(dep) === false));
    for (const id of blocked) {
      waiting.splice(waiting.indexOf(id), 1);
      done.set(id, false);
      const now = Date.now();
      yield { task: id, result: { success: false, status: 'skipped', terminalOutput: '', startTime: now, endTime: now } };
    }
    for (const id of waiting.filter((w) => depsInBatch(w).every((dep) => done.get(dep) === true))) {
      if (running.size >= concurrency) break;
      waiting.splice(waiting.indexOf(id), 1);
      running.set(id, runOne(id));
    }
    if (running.size === 0) {
      if (waiting.length > 0) throw new Error(`the batch's tasks ${waiting.join(', ')} wait on each other`);
      break;
    }
    const finished = await Promise.race(running.values());
    running.delete(finished.task);
    done.set(finished.task, finished.result.success);
    yield finished;
  }
}
