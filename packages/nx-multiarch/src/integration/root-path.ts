import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MultiarchError } from '../errors';

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINK_HOPS = 40;

/**
 * The host path of `path` inside an unpacked image root, resolving symlinks
 * as the kernel would inside a chroot: an absolute link target starts again
 * at the root and `..` never climbs above it. Used both to write layer entries
 * (so a hostile layer cannot write through a symlink to the host's files) and
 * to find an entrypoint such as /bin/sh -> /bin/busybox.
 *
 * `followLast` decides whether the final component is resolved when it is a
 * symlink (true to run it, false to replace or remove the link itself).
 */
export function resolveInRoot(root: string, path: string, followLast: boolean): string {
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const isLast = pending.length === 0;
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Does not exist (yet): nothing below it can be a link either.
    }
    if (isLink && (!isLast || followLast)) {
      hops += 1;
      if (hops > MAX_SYMLINK_HOPS) {
        throw new MultiarchError(`Too many levels of symbolic links resolving ${path} in the image.`, 'Fix the symlink loop in the image.');
      }
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) resolved = [];
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
