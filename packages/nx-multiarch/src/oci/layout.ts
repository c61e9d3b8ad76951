import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MultiarchError } from '../errors';
import { asDiskFullError } from '../util/disk-full';
import { canonicalJson } from './canonical-json';
import { DigestMismatchError, digestHex, sha256Digest, verifyDigest } from './digest';
import { Descriptor, Digest, ImageIndex, MediaTypes, OciLayoutFile } from './types';

/**
 * An OCI image layout folder (image-spec `image-layout.md`): `oci-layout`,
 * `index.json` and content-addressed `blobs/sha256/<hex>`. This is the
 * unit Nx caches and manifest-push reads, so nothing lives only in a daemon.
 */
export function blobPath(layoutDir: string, digest: Digest): string {
  return join(layoutDir, 'blobs', 'sha256', digestHex(digest));
}

export class OciLayoutWriter {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const layout: OciLayoutFile = { imageLayoutVersion: '1.0.0' };
    await writeFile(join(this.dir, 'oci-layout'), canonicalJson(layout));
  }

  /** Stores bytes under their digest (once) and returns their descriptor; written like a stream, so never half a blob under its name. */
  async writeBlob(data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(data);
    if (await stat(blobPath(this.dir, digest)).then(() => true, () => false)) return { mediaType, digest, size: data.length };
    return this.writeBlobStream(Readable.from([data]), mediaType);
  }

  /**
   * Stores a stream of bytes (a layer) without holding it: written to a
   * temporary name in blobs/sha256, hashed on the way, renamed to its digest
   * only once complete. A failure (a full disk, a source that fails) removes
   * the temporary file, so no blob is ever half-written under a digest's name.
   */
  async writeBlobStream(source: Readable | AsyncIterable<Buffer>, mediaType: string): Promise<Descriptor> {
    // The source may fail before the pipeline below listens to it (a file that changed under a
    // layer fails its first read, while the folder is still being made). An 'error' event nobody
    // listens to ends the process, so it is kept here and thrown as the write's error.
    let early: Error | undefined;
    const keepEarly = (error: Error) => {
      early ??= error;
    };
    const emitter = source instanceof Readable ? source : undefined;
    emitter?.on('error', keepEarly);
    const dir = join(this.dir, 'blobs', 'sha256');
    await mkdir(dir, { recursive: true }).finally(() => emitter?.off('error', keepEarly));
    if (early) throw early;
    const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, count, createWriteStream(tmp, { flags: 'wx' }));
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      const path = blobPath(this.dir, digest);
      if (await stat(path).then(() => true, () => false)) await rm(tmp, { force: true });
      else await rename(tmp, path);
      return { mediaType, digest, size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw asWriteError(error, dir);
    }
  }

  /** Stores a JSON document in canonical form, so its digest is stable. */
  async writeJsonBlob(document: object, mediaType: string): Promise<Descriptor> {
    return this.writeBlob(Buffer.from(canonicalJson(document)), mediaType);
  }

  /** Writes `index.json` listing the given manifests (with platform and ref name annotations). */
  async writeIndex(manifests: Descriptor[], annotations?: Record<string, string>): Promise<ImageIndex> {
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    await writeFile(join(this.dir, 'index.json'), canonicalJson(index));
    return index;
  }
}

/** Read access to a layout folder, with every blob checked against its digest. */
export class OciLayoutReader {
  constructor(readonly dir: string) {}

  async readIndex(): Promise<ImageIndex> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'index.json'), 'utf8');
    } catch {
      throw new MultiarchError(
        `No OCI image layout at ${this.dir} (index.json is missing).`,
        'Build the image first, e.g. nx run <project>:docker-arch-build --arch=<arch>.',
      );
    }
    return JSON.parse(text) as ImageIndex;
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(blobPath(this.dir, digest));
    } catch {
      throw new MultiarchError(`Blob ${digest} is missing from the OCI layout at ${this.dir}.`, 'Rebuild the image; the layout is incomplete.');
    }
    verifyDigest(data, digest, `Blob ${digest} in ${this.dir}`);
    return data;
  }

  /**
   * A blob (a layer) as a stream that hashes what it hands out and fails at
   * its end, before the last bytes count, when they do not match the digest
   * (or the descriptor's size): a reader never finishes on wrong content.
   */
  async openBlob(digest: Digest, expectedSize?: number): Promise<{ stream: Readable; size: number }> {
    const path = blobPath(this.dir, digest);
    const size = await stat(path).then(
      (info) => info.size,
      () => undefined,
    );
    if (size === undefined) {
      throw new MultiarchError(`Blob ${digest} is missing from the OCI layout at ${this.dir}.`, 'Rebuild the image; the layout is incomplete.');
    }
    const what = `Blob ${digest} in ${this.dir}`;
    if (expectedSize !== undefined && expectedSize !== size) {
      throw new DigestMismatchError(what, digest, undefined, undefined, `${what} has ${size} bytes, its descriptor says ${expectedSize}.`);
    }
    const read = createReadStream(path);
    const verify = verifyingStream(digest, what);
    read.on('error', (error) => verify.destroy(error));
    return { stream: read.pipe(verify), size };
  }

  async readJson<T>(digest: Digest): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }
}

/** A pass-through that hashes and, at the end, fails with DigestMismatchError unless the bytes match `digest`. */
export function verifyingStream(digest: Digest, what: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const actual: Digest = `sha256:${hash.digest('hex')}`;
      callback(actual === digest ? null : new DigestMismatchError(`${what}: content`, digest, actual));
    },
  });
}

/** A full disk or quota while writing a blob names the blob folder (a partial blob never gets its name). */
export function asWriteError(error: unknown, dir: string): unknown {
  return asDiskFullError(error, dir, {
    writing: 'writing a blob',
    outcome: 'nothing was stored under a blob name',
    hint: 'Free space on the disk that holds this folder (or point the output elsewhere), then build again.',
  });
}
