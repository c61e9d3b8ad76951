import { join } from 'node:path';

/**
 * Where each kind of task writes: `dist/<kind>/<project>/<arch>/` (DESIGN
 * section 4). `arch` is the --arch value as given, because Nx names the cached
 * output folder from `{options.arch}` before the executor runs.
 */
export type OutputKind = 'cross' | 'images' | 'test-results' | 'report';

export function outputDir(workspaceRoot: string, kind: OutputKind, project: string, arch: string): string {
  return join(workspaceRoot, 'dist', kind, project, arch);
}
