import type { ExecutorContext } from '@nx/devkit';
import { buildGoCross } from '../../cross/go-cross';
import type { GoCrossOptions } from '../../cross/go-plan';
import { crossContext, ExecutorResult, runExecutor } from '../executor-support';

/** nx-multiarch:go-cross — one arch per task; see schema.json for the options. */
export default async function goCrossExecutor(options: GoCrossOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(() => buildGoCross(crossContext(context), options));
}
