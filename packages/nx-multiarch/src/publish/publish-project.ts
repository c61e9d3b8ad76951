import { RegistryClient, RegistryClientOptions } from '../registry/client';
import { checkLocalBlobs } from './check-local-blobs';
import { executePush, PushReport } from './execute';
import { formatPlan, formatReport } from './format';
import { loadArchImages } from './load-images';
import { ManifestPushOptions, ProjectInfo, ResolvedPushOptions, resolvePushOptions } from './options';
import { planPush, PushPlan } from './plan';
import { rm } from 'node:fs/promises';
import { referrersMode } from '../supply-chain/referrers';
import { prepareSigner, signPushed, verifyPushed, withAttestationManifests } from './supply-chain';
import type { SignReport } from '../supply-chain/cosign-publish';
import { lockForRead, OutputLock } from '../util/output-lock';
import { outputDir } from '../outputs/paths';

/**
 * manifest-push for one project: resolve options, read the per-arch layouts,
 * plan, print the plan, hash every local blob, and (unless a dry run) push
 * and verify.
 */
export interface PublishRequest {
  options: ManifestPushOptions;
  project: ProjectInfo;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Client settings for tests and benchmarks (retry bounds, chunk sizes). */
  client?: Partial<RegistryClientOptions>;
}

export interface PublishResult {
  plan: PushPlan;
  /** Absent on a dry run. */
  report?: PushReport;
  /** Present when a signing key was given. */
  signing?: SignReport & { signer: string };
}

export async function publishProject(request: PublishRequest): Promise<PublishResult> {
  const env = request.env ?? process.env;
  const log = request.log ?? ((line: string) => console.log(line));
  const options = await resolvePushOptions(request.options, request.project, env);
  // Each arch's image folder is read-locked from the first read to the last upload: a build of the
  // same image in another terminal swaps its new folder in only once this push is done.
  const locks: OutputLock[] = [];
  try {
    for (const arch of [...options.arches].sort()) {
      const dir = outputDir(request.project.workspaceRoot, 'images', request.project.name, arch);
      locks.push(await lockForRead(dir, { onWait: (holders) => log(`Waiting for dist/images/${request.project.name}/${arch} (${holders.join(', ')}) ...`) }));
    }
    return await pushLocked(request, options, env, log);
  } finally {
    for (const lock of locks) await lock.release();
  }
}

async function pushLocked(request: PublishRequest, options: ResolvedPushOptions, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<PublishResult> {
  const images = await loadArchImages(request.project.workspaceRoot, request.project.name, options.arches);
  const basePlan = planPush(images, {
    repository: options.repository,
    tags: options.tags,
    perArchTags: options.perArchTags,
    format: options.format,
    annotations: options.annotations,
  });
  // BuildKit-style attestation manifests join the index before it is printed or pushed.
  const { plan, tempDir } = options.attestationManifests
    ? await withAttestationManifests(basePlan, request.project.workspaceRoot, request.project.name, `${options.target.registry}/${options.repository}`)
    : { plan: basePlan, tempDir: undefined };
  try {
    log(formatPlan(plan, options.target.registry));
    // Every blob of every arch is hashed before the first request: a damaged file stops the push with nothing sent.
    await checkLocalBlobs(basePlan, request.project.workspaceRoot, request.project.name);
    // Before anything is sent: a wrong password or a mismatched key pushes nothing.
    const signer = await prepareSigner(options, request.project.workspaceRoot, env);
    if (options.dryRun) {
      log('Dry run: nothing was sent to the registry.');
      return { plan };
    }
    return await pushAndSign(request, options, plan, signer, env, log);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

async function pushAndSign(
  request: PublishRequest,
  options: Awaited<ReturnType<typeof resolvePushOptions>>,
  plan: PushPlan,
  signer: Awaited<ReturnType<typeof prepareSigner>>,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<PublishResult> {
  const client = new RegistryClient({
    registry: options.target.registry,
    insecureRegistries: options.insecureRegistries,
    caFile: options.caFile,
    access: 'push',
    env,
    log: (line) => log(`  ${line}`),
    ...request.client,
  });
  try {
    // A registry that refuses the referrers API is found before the image goes up (nothing half-pushed).
    if (signer) await referrersMode(client, plan.repository, plan.index.digest);
    const report = await executePush(client, plan, { concurrency: options.concurrency, mountFrom: options.mountFrom, verify: options.verify, log });
    log(formatReport(report));
    const signing = signer ? { signer: signer.id, ...(await signPushed(client, plan, options, request.project.workspaceRoot, request.project.name, signer, log)) } : undefined;
    if (options.verifyKey) await verifyPushed(client, plan, options, request.project.workspaceRoot, log);
    return { plan, report, ...(signing ? { signing } : {}) };
  } finally {
    client.close();
  }
}
