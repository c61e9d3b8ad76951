import type { ExecutorContext } from '@nx/devkit';
import type { ManifestPushOptions } from '../../publish/options';
import { publishProject } from '../../publish/publish-project';
import { writePushRecord } from '../../outputs/push-record';
import { ExecutorResult, projectOf, runExecutor } from '../executor-support';

/** nx-multiarch:manifest-push — every arch's image and one index per tag; see schema.json. */
export default async function manifestPushExecutor(options: ManifestPushOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(async () => {
    const project = projectOf(context);
    const result = await publishProject({ options, project: { workspaceRoot: context.root, name: project.name, root: project.root } });
    // The build report reads the push summary from dist/push/<project>.json.
    if (result.report) await writePushRecord(context.root, { project: project.name, arches: result.plan.manifests.map((m) => m.arch), ...result.report });
  });
}
