import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Digest } from '../oci/types';

/**
 * Hashes an open file from its first byte. The same handle then streams the
 * bytes to the client, so what was checked is what is served even if the
 * path were replaced in between.
 */
export async function sha256OfHandle(handle: FileHandle): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}` as Digest, size };
}
