import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { canonicalJson } from './canonical-json';
import { digestHex, sha256Digest, verifyDigest } from './digest';
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

  /** Stores bytes under their digest (once) and returns their descriptor. */
  async writeBlob(data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(data);
    const path = blobPath(this.dir, digest);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) await writeFile(path, data);
    return { mediaType, digest, size: data.length };
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

  async readJson<T>(digest: Digest): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }
}
