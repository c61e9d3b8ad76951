import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isAtomicTemp, isScratchContext, sweepStaleTemps } from './stale-temp';

/**
 * Sweeps the whole workspace's litter of killed runs at the start of every
 * task: outputs restored from the Nx cache never pass through our writer, so
 * a sweep only beside the output being written would miss the folders of
 * projects that are not rebuilt. A few readdirs; never fails a task.
 * Returns the paths removed, relative to the workspace.
 */
const OUTPUT_KINDS = ['cross', 'images', 'test-results', 'report'];

async function subfolders(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

export async function sweepWorkspaceTemps(workspaceRoot: string): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (rel: string, isTemp: (name: string) => boolean) => {
    try {
      for (const name of await sweepStaleTemps(join(workspaceRoot, rel), isTemp)) removed.push(`${rel}/${name}`);
    } catch {
      // A folder that vanished or cannot be read: the next run tries again.
    }
  };
  await sweep('dist', isAtomicTemp);
  for (const kind of OUTPUT_KINDS) {
    await sweep(`dist/${kind}`, isAtomicTemp);
    for (const project of await subfolders(join(workspaceRoot, 'dist', kind))) await sweep(`dist/${kind}/${project}`, isAtomicTemp);
  }
  await sweep('.nx-multiarch/tmp', isScratchContext);
  return removed;
}
