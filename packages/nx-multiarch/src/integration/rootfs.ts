import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipStream } from '../oci/gzip';
import { MultiarchError } from '../errors';
import { OciLayoutReader } from '../oci/layout';
import { readTarStream, type ArchiveEntry } from '../oci/tar';
import type { Descriptor } from '../oci/types';
import { resolveInRoot } from './root-path';
import type { ResolvedImage } from './types';

/**
 * Unpacks an image's root filesystem from its OCI layout: layers applied in
 * order with the OCI whiteout rules (`.wh.<name>` deletes a lower-layer path,
 * `.wh..wh..opq` empties a lower-layer folder), every write resolved inside
 * the root. Owners are not applied (the qemu runner runs as the calling user)
 * and setuid/setgid bits are dropped, so an image can never plant a setuid
 * binary on the host.
 */
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * One layer being applied, entry by entry as its tar streams by. Whiteouts
 * only hide lower layers (image-spec), and a stream cannot look ahead: so
 * the layer remembers what it wrote itself (paths only, a few bytes each),
 * and a whiteout or an opaque marker never removes those.
 */
export class LayerApplier {
  /** Paths this layer wrote, and every folder above them. */
  private readonly written = new Set<string>();
  private readonly above = new Set<string>();

  constructor(private readonly root: string) {}

  private remember(path: string): void {
    this.written.add(path);
    for (let dir = posix.dirname(path); dir !== '.' && dir !== '/' && !this.above.has(dir); dir = posix.dirname(dir)) this.above.add(dir);
  }

  /** Removes what lower layers put under `dir`, keeping what this layer wrote there. */
  private async emptyLower(dir: string): Promise<void> {
    const host = resolveInRoot(this.root, dir, true);
    const children = await readdir(host).catch(() => [] as string[]);
    for (const child of children) {
      const path = dir === '.' ? child : posix.join(dir, child);
      if (this.written.has(path)) continue;
      if (this.above.has(path)) await this.emptyLower(path);
      else await rm(posix.join(host, child), { recursive: true, force: true });
    }
  }

  /** Applies one entry; a file's bytes come from `content` (consumed whole) or the entry itself. */
  async apply(entry: ArchiveEntry, content?: Readable): Promise<void> {
    const name = posix.basename(entry.path);
    const dir = posix.dirname(entry.path);
    if (name === OPAQUE_MARKER || name.startsWith(WHITEOUT_PREFIX)) await drain(content);
    if (name === OPAQUE_MARKER) {
      await this.emptyLower(dir);
      return;
    }
    if (name.startsWith(WHITEOUT_PREFIX)) {
      const hidden = posix.join(dir, name.slice(WHITEOUT_PREFIX.length));
      if (!this.written.has(hidden) && !this.above.has(hidden)) await rm(resolveInRoot(this.root, hidden, false), { recursive: true, force: true });
      return;
    }
    await writeEntry(this.root, entry, content);
    this.remember(entry.path);
  }
}

async function drain(content: Readable | undefined): Promise<void> {
  if (content) for await (const _ of content) void _;
}

/** Makes the parent folders of an entry (inside the root) and returns the entry's host path. */
async function prepareTarget(root: string, path: string): Promise<string> {
  const parent = resolveInRoot(root, posix.dirname(path), true);
  await mkdir(parent, { recursive: true });
  return posix.join(parent, posix.basename(path));
}

async function writeEntry(root: string, entry: ArchiveEntry, content: Readable | undefined): Promise<void> {
  const target = await prepareTarget(root, entry.path);
  const current = await lstat(target).catch(() => undefined);
  if (entry.type === 'directory') {
    if (current && !current.isDirectory()) await rm(target, { recursive: true, force: true });
    if (!current || !current.isDirectory()) await mkdir(target);
    // Owner rwx always, so the unpacked tree can be written and removed without root.
    await chmod(target, ((entry.mode ?? 0o755) & 0o1777) | 0o700);
    return;
  }
  if (current) await rm(target, { recursive: true, force: true });
  if (entry.type === 'symlink') {
    await symlink(entry.linkTarget ?? '', target);
  } else if (entry.type === 'hardlink') {
    const source = resolveInRoot(root, entry.linkTarget ?? '', false);
    if (!(await exists(source))) {
      throw new MultiarchError(`Layer hard link ${entry.path} points at ${entry.linkTarget}, which the image does not have.`, 'Rebuild the image; its layer is malformed.');
    }
    await link(source, target).catch(() => copyFile(source, target));
  } else {
    // 'wx': the target was just removed, so a symlink planted in its place by a racing writer is never followed.
    await pipeline(content ?? Readable.from([entry.content ?? Buffer.alloc(0)]), createWriteStream(target, { flags: 'wx' }));
    await chmod(target, (entry.mode ?? 0o644) & 0o777);
  }
}

/** Applies one layer's entries (in memory) on top of the root, with the whiteout rules of LayerApplier. */
export async function applyLayer(root: string, entries: readonly ArchiveEntry[]): Promise<void> {
  const applier = new LayerApplier(root);
  for (const entry of entries) await applier.apply(entry);
}

function isGzipMediaType(mediaType: string): boolean {
  return mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip') || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip';
}

/** The layer's uncompressed tar as a stream, by media type (gzip and plain tar; zstd is refused). */
export function layerTarStream(descriptor: Descriptor, blob: Readable): Readable {
  const type = descriptor.mediaType;
  if (type.endsWith('+zstd') || type.endsWith('.zstd')) {
    blob.destroy();
    throw new MultiarchError(`Layer ${descriptor.digest} is zstd-compressed (${type}), which the qemu runner cannot unpack.`, 'Build the image with gzip layers (the docker-arch-build default) or use --runner=docker.');
  }
  // Decompression output does not depend on the zlib version (only compression does), so Node's zlib is fine here.
  return isGzipMediaType(type) ? gunzipStream(blob) : blob;
}

/**
 * Unpacks every layer of the image into `root` (an empty folder), streaming:
 * blob -> digest check -> gunzip -> diff_id hash -> tar entries -> files.
 * A layer whose digest or diff_id turns out wrong fails at its end; the
 * caller unpacks beside the final name, so such a root is never used.
 */
export async function unpackRootfs(image: ResolvedImage, root: string): Promise<void> {
  const reader = new OciLayoutReader(image.layoutDir);
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  await mkdir(root, { recursive: true });
  for (const [i, descriptor] of image.manifest.layers.entries()) {
    const { stream } = await reader.openBlob(descriptor.digest, descriptor.size);
    const tar = layerTarStream(descriptor, stream);
    const hash = createHash('sha256');
    const hashed = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    tar.on('error', (error) => hashed.destroy(error));
    const applier = new LayerApplier(root);
    await readTarStream(tar.pipe(hashed), (entry, content) => applier.apply(entry, content), { hardLinks: true });
    const diffId = `sha256:${hash.digest('hex')}`;
    if (diffIds[i] !== undefined && diffIds[i] !== diffId) {
      throw new MultiarchError(
        `Layer ${i + 1} of the image at ${image.layoutDir} does not match the config's diff_id (expected ${diffIds[i]}, got ${diffId}).`,
        'Rebuild the image; its config and layers disagree.',
      );
    }
  }
}
