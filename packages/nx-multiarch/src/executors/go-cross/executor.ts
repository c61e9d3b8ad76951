import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { buildGoCross } from '../../cross/go-cross';
import type { GoCrossOptions } from '../../cross/go-plan';
import { crossContext, crossContextOf, ExecutorResult, runExecutor } from '../executor-support';
import { runBatch, type BatchTaskResult } from '../run-batch';

/** nx-multiarch:go-cross — one arch per task; see schema.json for the options. */
export default async function goCrossExecutor(options: GoCrossOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(() => buildGoCross(crossContext(context), options), context);
}

/**
 * go builds of a batch running at once: what Nx's default --parallel=3 gives
 * them as separate tasks. Mains of one module for one arch still take turns
 * (go-cross's build lock), so Go compiles what they share once.
 */
const BATCH_CONCURRENCY = 3;

/**
 * The go-cross tasks of a run in one process (`nx run-many … --batch`): one
 * process start and one plugin load instead of one per (project, arch). Each
 * task's output is its own, the compiler's included (kept, not streamed, so
 * builds that run at once do not interleave; a failure's error carries its
 * last lines). The binaries are the same bytes as from separate tasks.
 */
export function goCrossBatch(taskGraph: TaskGraph, inputs: Record<string, GoCrossOptions>, _overrides: GoCrossOptions, context: ExecutorContext): AsyncGenerator<BatchTaskResult> {
  return runBatch(taskGraph, inputs, context, BATCH_CONCURRENCY, async (task) => {
    await buildGoCross(crossContextOf(context.root, task.project, { echo: false, log: task.log }), task.options);
  });
}
