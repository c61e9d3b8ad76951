import type { BlobPushOutcome, RegistryClient } from '../registry/client';
import { RegistryError, TransientRegistryError } from '../registry/errors';
import { sleep } from '../registry/retry';
import type { PlannedBlob, PlannedManifest, PushPlan } from './plan';
import { verifyPush } from './verify';
import type { PushSummary } from '../outputs/push-record';

/**
 * Carries out a push plan in the order that keeps every reader safe: all
 * blobs, then each per-arch manifest by digest (and its `<tag>-<arch>` tags),
 * then the index under each tag last. A reader that resolves a tag therefore
 * never finds an index whose children, or their blobs, are missing.
 *
 * Every manifest and tag is asked for (HEAD) before it is written, and only
 * what differs is written: some registries (distribution 2.8) rewrite a
 * stored manifest in place on a PUT of the same bytes, and readers of the
 * live tag see errors meanwhile. A re-push of unchanged images is all reads,
 * and stops after the first when the tags already serve the planned index
 * (alreadyPublished).
 */
export interface PushOptions {
  /** Blob uploads running at once. */
  concurrency: number;
  /** Repositories of the same registry to mount shared blobs from. */
  mountFrom: readonly string[];
  /** Read back what the registry stored and compare digests. */
  verify: boolean;
  log: (line: string) => void;
}

/** What a push did; manifest-push keeps it as dist/push/<project>.json (outputs/push-record). */
export type PushReport = PushSummary;

/** Runs `task` over `items` with at most `limit` at once; the first failure stops new starts and is thrown. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

export async function executePush(client: RegistryClient, plan: PushPlan, options: PushOptions): Promise<PushReport> {
  const started = Date.now();
  const before = client.stats;
  const counts: Record<BlobPushOutcome, number> = { uploaded: 0, mounted: 0, skipped: 0 };
  let bytesUploaded = 0;
  const { repository } = plan;
  // Both ways out (already published, or pushed) report alike; only the blob and manifest counts differ.
  const report = (blobs: PushReport['blobs'], manifests: { written: number; unchanged: number }): PushReport => {
    const after = client.stats;
    return {
      registry: client.endpoint.host,
      repository,
      indexDigest: plan.index.digest,
      tags: [...plan.index.tags],
      blobs,
      manifestsPushed: manifests.written,
      manifestsUnchanged: manifests.unchanged,
      requests: after.requests - before.requests,
      bytesSent: after.bytesSent - before.bytesSent,
      verified: options.verify,
      durationMs: Date.now() - started,
    };
  };

  if (await alreadyPublished(client, plan)) {
    const tagCount = plan.index.tags.length + plan.manifests.reduce((n, m) => n + m.tags.length, 0);
    options.log(`  ${plan.index.tags.join(', ')} already ${plan.index.tags.length === 1 ? 'serves' : 'serve'} index ${plan.index.digest}: nothing to send`);
    // The blobs are implied by the index the registry accepted: its children, and their blobs, were there for it
    // to be stored. `verified` holds too: every tag was read back (GET, digest of the bytes) and matched the plan.
    return report(
      { uploaded: 0, mounted: 0, skipped: plan.blobs.length, bytesUploaded: 0 },
      { written: 0, unchanged: plan.manifests.length + tagCount },
    );
  }

  // Largest first, so the long uploads overlap with the many small ones.
  const blobs: PlannedBlob[] = [...plan.blobs].sort((a, b) => b.size - a.size || a.digest.localeCompare(b.digest));
  await forEachLimited(blobs, options.concurrency, async (blob) => {
    const result = await client.pushBlob(repository, { path: blob.path }, blob.digest, { size: blob.size, mountFrom: options.mountFrom });
    counts[result.outcome] += 1;
    bytesUploaded += result.bytes;
    if (result.outcome !== 'skipped') options.log(`  blob ${blob.digest.slice(7, 19)} ${result.outcome} (${formatBytes(blob.size)})`);
  });

  const manifests = await pushManifests(client, plan, options);
  if (options.verify) await verifyPush(client, plan);
  return report({ ...counts, bytesUploaded }, manifests);
}

/**
 * True when the registry already serves this very push: every index tag is
 * the planned index (read back with GET, so the digest is that of the bytes
 * served, as verification reads it) and every `<tag>-<arch>` tag its planned
 * manifest. Then nothing needs writing, and no blob or child needs asking
 * for: an index is content-addressed, and a registry stores one only once
 * every child manifest it names is stored (distribution refuses it with
 * MANIFEST_BLOB_UNKNOWN otherwise), and a child only once its config and
 * layers are (BLOB_UNKNOWN). BuildKit-style attestation manifests are
 * children of the index, so its digest covers them too. cosign signatures and
 * attestations live under their own tags, which the index does not imply:
 * signing runs after the push and checks those tags itself either way.
 *
 * The first index tag decides at once: a push of changed images pays one
 * request for this check. Any error (a registry that answers 404, 405 or
 * something odd) means "not known to be published": the full push follows.
 */
async function alreadyPublished(client: RegistryClient, plan: PushPlan): Promise<boolean> {
  const serves = async (reference: string, digest: string, mediaType: string): Promise<boolean> => {
    try {
      const got = await client.getManifest(plan.repository, reference);
      return got.digest === digest && got.mediaType === mediaType;
    } catch (error) {
      // An outage or refused credentials stop the push here as they would at its first write.
      if (error instanceof TransientRegistryError || (error instanceof RegistryError && (error.status === 401 || error.status === 403))) throw error;
      return false;
    }
  };
  if (plan.index.tags.length === 0) return false;
  for (const tag of plan.index.tags) {
    if (!(await serves(tag, plan.index.digest, plan.index.mediaType))) return false;
  }
  for (const manifest of plan.manifests) {
    for (const tag of manifest.tags) {
      if (!(await serves(tag, manifest.digest, manifest.mediaType))) return false;
    }
  }
  return true;
}

/** Writes `body` under `reference` unless the registry already resolves it to `digest`. */
async function putIfDifferent(
  client: RegistryClient,
  repository: string,
  reference: string,
  digest: string,
  body: Buffer,
  mediaType: string,
): Promise<boolean> {
  let current: string | undefined;
  try {
    current = await client.hasManifest(repository, reference);
  } catch (error) {
    // A registry that cannot answer a manifest HEAD (some answer 405) is written to as before; an outage is not.
    if (!(error instanceof RegistryError) || error instanceof TransientRegistryError || error.status === 401 || error.status === 403) throw error;
  }
  if (current === digest) return false;
  await client.putManifest(repository, reference, body, mediaType);
  return true;
}

/** Tries of a manifest PUT the registry refuses with MANIFEST_BLOB_UNKNOWN (the first and two more). */
const BLOB_UNKNOWN_TRIES = 3;
/** Pause before each further try: a concurrent commit rewrites a link within milliseconds. */
const BLOB_UNKNOWN_PAUSE_MS = [50, 250];

/**
 * Runs `put`; when the registry refuses it with MANIFEST_BLOB_UNKNOWN, runs
 * `confirm` (which makes sure what the manifest names is there, writing it
 * again only if really missing) and tries again, a bounded number of times.
 *
 * Why the registry can say "unknown" of something that is there: two pushes
 * of the same images into one repository run at once, and each commits the
 * same blobs (both asked HEAD before either had committed). Distribution 2.8
 * on filesystem storage writes a blob's repository link on every commit,
 * even of a blob it already holds, by truncating the link file and writing
 * it anew; a manifest PUT that checks the blob in that instant reads an
 * empty link and is refused with DIGEST_INVALID + MANIFEST_BLOB_UNKNOWN.
 * A child manifest's link is rewritten the same way when the other push
 * PUTs it, so an index PUT meets the same. Eventually consistent storage
 * (or a concurrent delete) answers alike. Anything else is thrown at once.
 */
async function putConfirming<T>(put: () => Promise<T>, confirm: () => Promise<void>, refusedLine: string, log: (line: string) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await put();
    } catch (error) {
      if (attempt >= BLOB_UNKNOWN_TRIES || !(error instanceof RegistryError) || !error.codes.includes('MANIFEST_BLOB_UNKNOWN')) throw error;
      log(refusedLine);
      await sleep(BLOB_UNKNOWN_PAUSE_MS[attempt - 1] ?? 250);
      await confirm();
    }
  }
}

/** Every blob of the plan is there (HEAD), uploaded again only if really missing. */
async function confirmBlobs(client: RegistryClient, plan: PushPlan, mountFrom: readonly string[]): Promise<void> {
  for (const blob of plan.blobs) await client.pushBlob(plan.repository, { path: blob.path }, blob.digest, { size: blob.size, mountFrom });
}

/** A per-arch manifest under `reference` (its digest or a tag), its blobs confirmed and the PUT tried again if the registry misses one. */
function putManifest(client: RegistryClient, plan: PushPlan, manifest: PlannedManifest, reference: string, options: ManifestOptions): Promise<boolean> {
  return putConfirming(
    () => putIfDifferent(client, plan.repository, reference, manifest.digest, manifest.body, manifest.mediaType),
    () => confirmBlobs(client, plan, options.mountFrom),
    `  ${client.endpoint.host} does not see every blob of the ${manifest.arch} manifest yet; confirming them before one more try`,
    options.log,
  );
}

/** The index under `tag`; when the registry misses a child, each child is confirmed (and written again only if really missing) first. */
function putIndex(client: RegistryClient, plan: PushPlan, tag: string, options: ManifestOptions): Promise<boolean> {
  const { repository, index } = plan;
  return putConfirming(
    () => putIfDifferent(client, repository, tag, index.digest, index.body, index.mediaType),
    async () => {
      for (const manifest of plan.manifests) await putManifest(client, plan, manifest, manifest.digest, options);
    },
    `  ${client.endpoint.host} does not see every child of the index yet; confirming them before one more try`,
    options.log,
  );
}

interface ManifestOptions {
  mountFrom: readonly string[];
  log: (line: string) => void;
}

async function pushManifests(client: RegistryClient, plan: PushPlan, options: ManifestOptions): Promise<{ written: number; unchanged: number }> {
  const { log } = options;
  let written = 0;
  let unchanged = 0;
  const count = (wrote: boolean, line: string) => {
    if (wrote) {
      written += 1;
      log(line);
    } else {
      unchanged += 1;
    }
  };
  for (const manifest of plan.manifests) count(await putManifest(client, plan, manifest, manifest.digest, options), `  manifest ${manifest.arch} ${manifest.digest}`);
  for (const manifest of plan.manifests) {
    for (const tag of manifest.tags) count(await putManifest(client, plan, manifest, tag, options), `  tag ${tag} -> ${manifest.arch} manifest`);
  }
  for (const tag of plan.index.tags) count(await putIndex(client, plan, tag, options), `  tag ${tag} -> index ${plan.index.digest}`);
  if (unchanged > 0) log(`  ${unchanged} manifest${unchanged === 1 ? '' : 's'} and tags already as planned: not written again`);
  return { written, unchanged };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
