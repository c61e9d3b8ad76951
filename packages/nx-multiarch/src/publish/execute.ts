import type { BlobPushOutcome, RegistryClient } from '../registry/client';
import type { PlannedBlob, PushPlan } from './plan';
import { verifyPush } from './verify';
import type { PushSummary } from '../outputs/push-record';

/**
 * Carries out a push plan in the order that keeps every reader safe: all
 * blobs, then each per-arch manifest by digest (and its `<tag>-<arch>` tags),
 * then the index under each tag last. A reader that resolves a tag therefore
 * never finds an index whose children, or their blobs, are missing.
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

  // Largest first, so the long uploads overlap with the many small ones.
  const blobs: PlannedBlob[] = [...plan.blobs].sort((a, b) => b.size - a.size || a.digest.localeCompare(b.digest));
  await forEachLimited(blobs, options.concurrency, async (blob) => {
    const result = await client.pushBlob(repository, { path: blob.path }, blob.digest, { size: blob.size, mountFrom: options.mountFrom });
    counts[result.outcome] += 1;
    bytesUploaded += result.bytes;
    if (result.outcome !== 'skipped') options.log(`  blob ${blob.digest.slice(7, 19)} ${result.outcome} (${formatBytes(blob.size)})`);
  });

  let manifestsPushed = 0;
  for (const manifest of plan.manifests) {
    await client.putManifest(repository, manifest.digest, manifest.body, manifest.mediaType);
    manifestsPushed += 1;
    options.log(`  manifest ${manifest.arch} ${manifest.digest}`);
  }
  for (const manifest of plan.manifests) {
    for (const tag of manifest.tags) {
      await client.putManifest(repository, tag, manifest.body, manifest.mediaType);
      options.log(`  tag ${tag} -> ${manifest.arch} manifest`);
    }
  }
  for (const tag of plan.index.tags) {
    await client.putManifest(repository, tag, plan.index.body, plan.index.mediaType);
    options.log(`  tag ${tag} -> index ${plan.index.digest}`);
  }

  if (options.verify) await verifyPush(client, plan);
  const after = client.stats;
  return {
    registry: client.endpoint.host,
    repository,
    indexDigest: plan.index.digest,
    tags: [...plan.index.tags],
    blobs: { ...counts, bytesUploaded },
    manifestsPushed,
    requests: after.requests - before.requests,
    bytesSent: after.bytesSent - before.bytesSent,
    verified: options.verify,
    durationMs: Date.now() - started,
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
