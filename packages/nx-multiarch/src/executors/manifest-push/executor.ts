import type { ExecutorContext } from '@nx/devkit';
import type { ManifestPushOptions } from '../../publish/options';
import { publishProject } from '../../publish/publish-project';
import { imageManifests } from '../../publish/supply-chain';
import { writePushRecord } from '../../outputs/push-record';
import { ExecutorResult, projectOf, runExecutor } from '../executor-support';

/** nx-multiarch:manifest-push — every arch's image and one index per tag; see schema.json. */
export default async function manifestPushExecutor(options: ManifestPushOptions, context: ExecutorContext): Promise<ExecutorResult> {
  return runExecutor(async () => {
    const project = projectOf(context);
    const result = await publishProject({ options, project: { workspaceRoot: context.root, name: project.name, root: project.root } });
    // The build report reads the push summary from dist/push/<project>.json.
    if (result.report) {
      const signing = result.signing
        ? { signer: result.signing.signer, signaturesPushed: result.signing.signaturesPushed, alreadySigned: result.signing.alreadySigned, attestationsPushed: result.signing.attestationsPushed, alreadyAttested: result.signing.alreadyAttested }
        : undefined;
      await writePushRecord(context.root, { project: project.name, arches: imageManifests(result.plan).map((m) => m.arch), ...result.report, ...(signing ? { signing } : {}) });
    }
  }, context);
}
