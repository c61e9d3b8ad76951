import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { relative, sep } from 'node:path';
import { MultiarchError } from '../errors';
import type { Digest } from '../oci/types';
import type { Arch } from '../platform';
import type { PlannedBlob, PushPlan } from './plan';

/**
 * Hashes every blob a push would send, of every arch, before the first
 * request. A layer damaged on disk (same size, other bytes) is otherwise
 * found only by the registry, after other blobs of the image went up and
 * stayed behind as orphans, and with a message that blames the registry.
 */
export interface LocalBlobProblem {
  blob: PlannedBlob;
  /** What the file hashes to; undefined when it could not be read. */
  actual?: Digest;
  bytes: number;
  reason?: string;
}

async function hashFile(path: string): Promise<{ digest: Digest; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    bytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { digest: `sha256:${hash.digest('hex')}`, bytes };
}

/** Every blob whose file does not hash to its digest (or has another size); empty when all are sound. */
export async function findDamagedBlobs(blobs: readonly PlannedBlob[], concurrency = 2): Promise<LocalBlobProblem[]> {
  const problems: LocalBlobProblem[] = [];
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const blob = blobs[next++];
      try {
        const { digest, bytes } = await hashFile(blob.path);
        if (digest !== blob.digest || bytes !== blob.size) problems.push({ blob, actual: digest, bytes });
      } catch (error) {
        problems.push({ blob, bytes: 0, reason: (error as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, blobs.length)) }, worker));
  // Stable order for the message, whatever finished first.
  return problems.sort((a, b) => a.blob.path.localeCompare(b.blob.path));
}

/** Throws one error naming every damaged file and the command that rebuilds each affected arch. */
export async function checkLocalBlobs(plan: PushPlan, workspaceRoot: string, project: string): Promise<void> {
  const problems = await findDamagedBlobs(plan.blobs);
  if (problems.length === 0) return;
  const shown = (path: string) => relative(workspaceRoot, path).split(sep).join('/');
  const lines = problems.map(({ blob, actual, bytes, reason }) =>
    reason
      ? `  - ${shown(blob.path)} (${blob.arches.join(', ')}): cannot be read: ${reason}`
      : `  - ${shown(blob.path)} (${blob.arches.join(', ')}): hashes to ${actual} (${bytes} bytes), not ${blob.digest} (${blob.size} bytes)`,
  );
  const arches = [...new Set(problems.flatMap((p) => p.blob.arches))] as Arch[];
  throw new MultiarchError(
    `${problems.length} local blob${problems.length === 1 ? '' : 's'} of ${project} ${problems.length === 1 ? 'is' : 'are'} damaged; nothing was sent to the registry:\n${lines.join('\n')}`,
    `Rebuild the image${arches.length === 1 ? '' : 's'}: ${arches.map((a) => `nx run ${project}:docker-arch-build --arch=${a} --skip-nx-cache`).join('; ')}.`,
  );
}
