import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, type NxJsonConfiguration } from '@nx/devkit';
import { fail, loadPlugin } from './plugin';

/**
 * The plugin's own share of the project graph: its createNodes over every
 * project file of a workspace, called directly, cold (its memo removed before
 * each call) and warm (memo kept). Medians of RUNS calls each, in ms.
 *
 *   create-nodes.ts WORKSPACE [RUNS]
 */
interface NxGlobber {
  globWithWorkspaceContext(workspaceRoot: string, globs: string[]): Promise<string[]>;
  workspaceDataDirectory: string;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const [workspaceRoot, runsText = '9'] = process.argv.slice(2);
  const runs = Number(runsText);
  const { createNodesV2, PROJECT_FILES_GLOB } = loadPlugin();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nx = require('nx/src/devkit-internals') as NxGlobber;
  const nxJson = readJsonFile<NxJsonConfiguration>(join(workspaceRoot, 'nx.json'));
  const entry = nxJson.plugins?.find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-multiarch');
  const options = typeof entry === 'object' ? (entry.options as Record<string, unknown>) : undefined;
  const files = await nx.globWithWorkspaceContext(workspaceRoot, [PROJECT_FILES_GLOB]);
  const [, createNodes] = createNodesV2;
  const clearMemo = (): void => {
    for (const name of readdirSync(nx.workspaceDataDirectory)) {
      if (name.startsWith('nx-multiarch-nodes-')) rmSync(join(nx.workspaceDataDirectory, name));
    }
  };
  const time = async (): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await createNodes(files, options, { workspaceRoot, nxJsonConfiguration: nxJson });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    clearMemo();
    cold.push(await time());
    warm.push(await time());
  }
  console.log(`createNodes over ${files.length} project files: cold ${median(cold).toFixed(1)} ms, warm ${median(warm).toFixed(1)} ms (medians of ${runs})`);
}

main().catch(fail);
