import { createHash } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MultiarchError } from '../errors';
import { OciLayoutReader } from '../oci/layout';
import { readTar, type ArchiveEntry } from '../oci/tar';
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

/** Removes every child of a folder (an opaque whiteout keeps the folder itself). */
async function emptyDir(dir: string): Promise<void> {
  const children = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(children.map((child) => rm(posix.join(dir, child), { recursive: true, force: true })));
}

/** Makes the parent folders of an entry (inside the root) and returns the entry's host path. */
async function prepareTarget(root: string, path: string): Promise<string> {
  const parent = resolveInRoot(root, posix.dirname(path), true);
  await mkdir(parent, { recursive: true });
  return posix.join(parent, posix.basename(path));
}

async function writeEntry(root: string, entry: ArchiveEntry): Promise<void> {
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
    await writeFile(target, entry.content ?? Buffer.alloc(0));
    await chmod(target, (entry.mode ?? 0o644) & 0o777);
  }
}

/** Applies one layer's entries on top of the root: whiteouts first (they only hide lower layers), then content. */
export async function applyLayer(root: string, entries: readonly ArchiveEntry[]): Promise<void> {
  const content: ArchiveEntry[] = [];
  for (const entry of entries) {
    const name = posix.basename(entry.path);
    const dir = posix.dirname(entry.path);
    if (name === OPAQUE_MARKER) {
      await emptyDir(resolveInRoot(root, dir, true));
    } else if (name.startsWith(WHITEOUT_PREFIX)) {
      const hidden = posix.join(dir, name.slice(WHITEOUT_PREFIX.length));
      await rm(resolveInRoot(root, hidden, false), { recursive: true, force: true });
    } else {
      content.push(entry);
    }
  }
  for (const entry of content) await writeEntry(root, entry);
}

function isGzip(data: Buffer): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** The uncompressed tar of a layer blob, by media type (gzip and plain tar; zstd is refused). */
export function layerTar(descriptor: Descriptor, blob: Buffer): Buffer {
  const type = descriptor.mediaType;
  if (type.endsWith('+zstd') || type.endsWith('.zstd')) {
    throw new MultiarchError(`Layer ${descriptor.digest} is zstd-compressed (${type}), which the qemu runner cannot unpack.`, 'Build the image with gzip layers (the docker-arch-build default) or use --runner=docker.');
  }
  // Decompression output does not depend on the zlib version (only compression does), so Node's zlib is fine here.
  return isGzip(blob) ? gunzipSync(blob) : blob;
}

/** Unpacks every layer of the image into `root` (an empty folder), checking each layer against its diff_id. */
export async function unpackRootfs(image: ResolvedImage, root: string): Promise<void> {
  const reader = new OciLayoutReader(image.layoutDir);
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  await mkdir(root, { recursive: true });
  for (const [i, descriptor] of image.manifest.layers.entries()) {
    const tar = layerTar(descriptor, await reader.readBlob(descriptor.digest));
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    if (diffIds[i] !== undefined && diffIds[i] !== diffId) {
      throw new MultiarchError(
        `Layer ${i + 1} of the image at ${image.layoutDir} does not match the config's diff_id (expected ${diffIds[i]}, got ${diffId}).`,
        'Rebuild the image; its config and layers disagree.',
      );
    }
    await applyLayer(root, await readTar(tar, { hardLinks: true }));
  }
}
