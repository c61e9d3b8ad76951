import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { fail, loadPlugin } from './plugin';

/**
 * Runs one cross executor as Nx would, minus Nx: its default export with the
 * target's options from project.json, so a bench ratio is the executor's own.
 *
 *   run-executor.ts ROOT go-cross|cargo-cross PROJECT PROJECT_ROOT TARGET ARCH
 */
interface ProjectJson {
  targets: Record<string, { options?: Record<string, unknown> }>;
}

async function main(): Promise<void> {
  const [root, executor, project, projectRoot, target, arch] = process.argv.slice(2);
  const plugin = loadPlugin();
  const config = JSON.parse(readFileSync(join(root, projectRoot, 'project.json'), 'utf8')) as ProjectJson;
  const options = { ...(config.targets[target]?.options ?? {}), arch };
  const context = {
    root,
    projectName: project,
    targetName: target,
    cwd: root,
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: { [project]: { root: projectRoot } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as ExecutorContext;
  const run = executor === 'go-cross' ? plugin.goCrossExecutor : executor === 'cargo-cross' ? plugin.cargoCrossExecutor : undefined;
  if (!run) throw new plugin.MultiarchError(`No bench runner for executor "${executor}".`, 'Use go-cross or cargo-cross.');
  const result = await run(options as Parameters<typeof run>[0], context);
  process.exit(result.success ? 0 : 1);
}

main().catch(fail);
