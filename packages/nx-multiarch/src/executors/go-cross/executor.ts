import type { ExecutorContext } from '@nx/devkit';
import { buildGoCross } from '../../build/go-cross';
import type { GoCrossOptions } from '../../build/go-plan';
import { crossContext, ExecutorResult, runExecutor } from '../executor-support';

/** nx-multiarch:go-cross — one arch per task; see schema.json for the options. */
export default async function goCrossExecutor(options: GoCrossOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(() => buildGoCross(crossContext(context), options), context);
}
