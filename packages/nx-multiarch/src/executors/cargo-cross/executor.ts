import type { ExecutorContext } from '@nx/devkit';
import { buildCargoCross } from '../../cross/cargo-cross';
import type { CargoCrossOptions } from '../../cross/cargo-plan';
import { crossContext, ExecutorResult, runExecutor } from '../executor-support';

/** nx-multiarch:cargo-cross — one arch per task; see schema.json for the options. */
export default async function cargoCrossExecutor(options: CargoCrossOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(() => buildCargoCross(crossContext(context), options));
}
