import { join } from 'node:path';
import type * as BenchApi from '../../packages/nx-multiarch/src/bench-api';
import type * as BenchImageApi from '../../packages/nx-multiarch/src/bench-api-image';

/**
 * The plugin as the benchmarks use it: the compiled CommonJS (what `npm ci`
 * builds and users run, so the figures are not slowed by transpiling), loaded
 * through its one bench entry point and typed by that entry's source.
 * Build it first: npm run build:plugin.
 */
export type Plugin = typeof BenchApi;
/** The narrow entry of the big-image steps: what one build or push process loads. */
export type ImagePlugin = typeof BenchImageApi;

/** The plugin of the checkout at `workspaceRoot` (default: the one this script is in). */
export function loadPlugin(workspaceRoot: string = join(__dirname, '..', '..')): Plugin {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(workspaceRoot, 'packages', 'nx-multiarch', 'dist', 'bench-api')) as Plugin;
}

/** The compiled narrow entry (bench-api-image) of the checkout at `workspaceRoot`. */
export function loadImagePlugin(workspaceRoot: string = join(__dirname, '..', '..')): ImagePlugin {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(workspaceRoot, 'packages', 'nx-multiarch', 'dist', 'bench-api-image')) as ImagePlugin;
}

/** Prints the error as the plugin words it (message, then the hint of a MultiarchError) and exits 1. */
export function fail(error: unknown): never {
  const hint = error instanceof Error && 'hint' in error && typeof error.hint === 'string' ? `\n  hint: ${error.hint}` : '';
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}${hint}\n`);
  process.exit(1);
}
