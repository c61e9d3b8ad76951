import type { ExecutorContext, TaskGraph, TaskGraphExecutor } from '@nx/devkit';
import type { ManifestPushOptions } from '../../publish/options';
import { publishProject } from '../../publish/publish-project';
import { imageManifests } from '../../publish/supply-chain';
import { writePushRecord } from '../../outputs/push-record';
import { formatError, MultiarchError } from '../../errors';
import { sweepWorkspaceTemps } from '../../util/sweep-workspace';
import { ExecutorResult, projectOf, runExecutor } from '../executor-support';

/** Pushes one project's images and keeps the push record the build report reads (dist/push/<project>.json). */
async function pushProject(options: ManifestPushOptions, workspaceRoot: string, project: { name: string; root: string }, log: (line: string) => void): Promise<void> {
  const result = await publishProject({ options, project: { workspaceRoot, name: project.name, root: project.root }, log });
  if (result.report) {
    const signing = result.signing
      ? { signer: result.signing.signer, signaturesPushed: result.signing.signaturesPushed, alreadySigned: result.signing.alreadySigned, attestationsPushed: result.signing.attestationsPushed, alreadyAttested: result.signing.alreadyAttested }
      : undefined;
    await writePushRecord(workspaceRoot, { project: project.name, arches: imageManifests(result.plan).map((m) => m.arch), ...result.report, ...(signing ? { signing } : {}) });
  }
}

/** nx-multiarch:manifest-push — every arch's image and one index per tag; see schema.json. */
export default async function manifestPushExecutor(options: ManifestPushOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(async () => pushProject(options, context.root, projectOf(context), (line) => console.log(line)), context);
}

/** What a batch executor returns: each task's result, by task id. */
type BatchExecutorResult = Extract<Awaited<ReturnType<TaskGraphExecutor>>, Record<string, { success: boolean }>>;

/** Pushes of one batch running at once: what Nx's default --parallel=3 gave them as separate tasks. */
const BATCH_CONCURRENCY = 3;

/**
 * The same pushes for many projects in one process (`nx run-many -t
 * manifest-push --batch`): Nx starts one process and the plugin is loaded
 * once, instead of once per image. Each task's result and output are its own;
 * one project's failure fails that task only.
 */
export async function manifestPushBatch(
  taskGraph: TaskGraph,
  inputs: Record<string, ManifestPushOptions>,
  _overrides: ManifestPushOptions,
  context: ExecutorContext,
): Promise<BatchExecutorResult> {
  const removed = await sweepWorkspaceTemps(context.root);
  if (removed.length > 0) console.log(`Removed ${removed.length} temporary folder${removed.length === 1 ? '' : 's'} left by killed runs: ${removed.join(', ')}`);
  const results: BatchExecutorResult = {};
  const taskIds = Object.keys(inputs);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < taskIds.length) {
      const taskId = taskIds[next++];
      const lines: string[] = [];
      const startTime = Date.now();
      let success = true;
      try {
        const name = taskGraph.tasks[taskId]?.target.project;
        const root = name ? context.projectsConfigurations?.projects[name]?.root : undefined;
        if (!name || root === undefined) throw new MultiarchError(`manifest-push task ${taskId} has no project in the workspace.`, 'Run it through Nx: npx nx run <project>:manifest-push.');
        await pushProject(inputs[taskId], context.root, { name, root }, (line) => lines.push(line));
      } catch (error) {
        success = false;
        lines.push(formatError(error));
      }
      results[taskId] = { success, terminalOutput: `${lines.join('\n')}\n`, startTime, endTime: Date.now() };
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, taskIds.length) }, worker));
  return results;
}
