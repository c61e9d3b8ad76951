import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageSummaries, type ImageSummary } from '../outputs/image-summary';
import { subfolders } from '../outputs/json-file';
import { readPushRecords, type PushRecord } from '../outputs/push-record';
import { ARCHES } from '../platform/platforms';
import { summariseJunit } from './junit-summary';
import { readRunFile } from './nx-run';
import type { BuildReport, IntegrationResult, MatrixCell, RunRecord, TaskRun } from './types';

async function readIntegrationResults(workspaceRoot: string): Promise<IntegrationResult[]> {
  const root = join(workspaceRoot, 'dist', 'test-results');
  const results: IntegrationResult[] = [];
  for (const project of await subfolders(root)) {
    for (const arch of await subfolders(join(root, project))) {
      const xml = await readFile(join(root, project, arch, 'junit.xml'), 'utf8').catch(() => undefined);
      if (xml !== undefined) results.push(summariseJunit(xml, project, arch));
    }
  }
  return results;
}

/** The image task of (project, arch) in the newest run that ran it. */
function imageTask(runs: readonly RunRecord[], project: string, arch: string): TaskRun | undefined {
  for (let i = runs.length - 1; i >= 0; i--) {
    const task = runs[i].tasks.find((t) => t.project === project && t.kind === 'docker-arch-build' && t.arch === arch);
    if (task) return task;
  }
  return undefined;
}

/** Known arches first in the platform table's order, then anything else alphabetically. */
export function orderArches(arches: Iterable<string>): string[] {
  const set = new Set(arches);
  const known = ARCHES.filter((a) => set.has(a));
  const other = [...set].filter((a) => !(ARCHES as readonly string[]).includes(a)).sort();
  return [...known, ...other];
}

export interface CollectOptions {
  /** Nx run records, oldest first; later runs win for the same task. */
  runFiles: readonly string[];
}

export async function collectReport(workspaceRoot: string, options: CollectOptions): Promise<BuildReport> {
  const runs: RunRecord[] = [];
  for (const file of options.runFiles) runs.push(await readRunFile(file));
  const summaries = await readImageSummaries(workspaceRoot);
  const cells: MatrixCell[] = summaries.map((s) => {
    const task = imageTask(runs, s.project, s.arch);
    return {
      project: s.project,
      arch: s.arch,
      platform: s.platform,
      engine: s.engine,
      manifestDigest: s.manifestDigest,
      size: s.size,
      layers: s.layers,
      buildMs: task?.durationMs,
      cacheStatus: task?.cacheStatus,
    };
  });
  const integration = await readIntegrationResults(workspaceRoot);
  return {
    arches: orderArches([...cells.map((c) => c.arch), ...integration.map((r) => r.arch)]),
    projects: [...new Set(cells.map((c) => c.project))].sort(),
    cells,
    pushes: await readPushRecords(workspaceRoot),
    integration,
    runs,
  };
}
