import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import type { ManifestPushOptions } from '../../publish/options';
import { publishProject } from '../../publish/publish-project';
import { imageManifests } from '../../publish/supply-chain';
import { writePushRecord } from '../../outputs/push-record';
import { ExecutorResult, projectOf, runExecutor } from '../executor-support';
import { runBatch, type BatchTaskResult } from '../run-batch';

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

/** Pushes of one batch running at once: what Nx's default --parallel=3 gave them as separate tasks. */
const BATCH_CONCURRENCY = 3;

/**
 * The same pushes for many projects in one process (`nx run-many -t
 * manifest-push --batch`): Nx starts one process and the plugin is loaded
 * once, instead of once per image. Each task's result and output are its
 * own; one project's failure fails that task only. Not the default
 * (`preferBatch`): Nx's batch worker turns a schema error into an unhandled
 * rejection without its message (README, "Batched pushes").
 */
export function manifestPushBatch(taskGraph: TaskGraph, inputs: Record<string, ManifestPushOptions>, _overrides: ManifestPushOptions, context: ExecutorContext): AsyncGenerator<BatchTaskResult> {
  return runBatch(taskGraph, inputs, context, BATCH_CONCURRENCY, (task) => pushProject(task.options, context.root, task.project, task.log));
}
