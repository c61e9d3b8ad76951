import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { MultiarchError } from '../errors';
import { DigestMismatchError, digestHex, verifyDigest } from './digest';
import { asWriteError, blobPath } from './layout';
import type { Digest } from './types';

/**
 * Moving blobs between folders with their digest checked on the way, and a
 * content-addressed cache of blobs fetched from registries. Every write goes
 * to a temporary name first and is renamed only once the bytes hash to the
 * digest, so neither the cache nor a layout ever holds a wrong blob under a
 * digest's name.
 */

function tempName(path: string): string {
  return `${path}.tmp-${randomBytes(6).toString('hex')}`;
}

/** Copies a blob file into a layout's blobs/sha256, streaming, checking it hashes to `digest`. */
export async function copyVerifiedBlob(source: string, digest: Digest, layoutDir: string, what: string): Promise<void> {
  const dest = blobPath(layoutDir, digest);
  if (await stat(dest).then(() => true, () => false)) return;
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const tmp = tempName(dest);
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), hasher, createWriteStream(tmp));
  } catch (error) {
    await rm(tmp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MultiarchError(`${what}: blob ${digest} is missing (${source}).`, 'The base image is incomplete; rebuild or fetch it again.');
    }
    throw asWriteError(error, join(layoutDir, 'blobs', 'sha256'));
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== digest) {
    await rm(tmp, { force: true });
    throw new DigestMismatchError(
      `${what}: blob ${digest}`,
      digest,
      actual as Digest,
      'The base image is corrupted or was tampered with: rebuild or fetch it again (for a registry base, delete the blob cache folder).',
    );
  }
  await rename(tmp, dest);
}

/** Writes bytes under their digest in a folder laid out as `sha256/<hex>`, after checking them. */
async function storeVerified(dir: string, digest: Digest, data: Buffer, what: string): Promise<string> {
  verifyDigest(data, digest, what);
  const path = join(dir, 'sha256', digestHex(digest));
  await mkdir(join(dir, 'sha256'), { recursive: true });
  const tmp = tempName(path);
  const out = createWriteStream(tmp);
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.end(data, () => resolve());
  });
  await rename(tmp, path);
  return path;
}

/**
 * Blobs fetched from registries, kept under their digest (`<dir>/sha256/<hex>`).
 * A cached blob is trusted only after its bytes hash to its name again; a
 * corrupted entry is dropped and fetched anew.
 */
export class BlobCache {
  constructor(readonly dir: string) {}

  pathOf(digest: Digest): string {
    return join(this.dir, 'sha256', digestHex(digest));
  }

  /** The blob's bytes, from the cache when it holds a good copy, else fetched and stored. */
  async read(digest: Digest, fetch: () => Promise<Buffer>, what: string): Promise<Buffer> {
    const path = this.pathOf(digest);
    const cached = await readFile(path).catch(() => undefined);
    if (cached) {
      try {
        verifyDigest(cached, digest, what);
        return cached;
      } catch {
        await rm(path, { force: true });
      }
    }
    const data = await fetch();
    await storeVerified(this.dir, digest, data, what);
    return data;
  }

  /**
   * The blob's file in the cache, downloaded first when missing: `download`
   * streams it into the new file it is given (checking the digest itself, as
   * RegistryClient.downloadBlob does), which is renamed into place only then.
   * A layer never passes through memory whole.
   */
  async ensureFile(digest: Digest, download: (path: string) => Promise<unknown>): Promise<string> {
    const path = this.pathOf(digest);
    if (await stat(path).then(() => true, () => false)) return path;
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
    const tmp = tempName(path);
    try {
      await download(tmp);
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw asWriteError(error, join(this.dir, 'sha256'));
    }
    return path;
  }

  /**
   * Copies a blob into a layout from the cache, streaming (downloaded into
   * the cache first when missing); a cache entry that fails its digest is
   * downloaded again once.
   */
  async copyToLayout(digest: Digest, download: (path: string) => Promise<unknown>, layoutDir: string, what: string): Promise<void> {
    const path = await this.ensureFile(digest, download);
    try {
      await copyVerifiedBlob(path, digest, layoutDir, what);
    } catch (error) {
      if (!(error instanceof DigestMismatchError)) throw error;
      await rm(path, { force: true });
      await copyVerifiedBlob(await this.ensureFile(digest, download), digest, layoutDir, what);
    }
  }
}
