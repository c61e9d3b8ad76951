import * as tarStream from 'tar-stream';
import { posix } from 'node:path';
import { MultiarchError } from '../errors';

/**
 * Deterministic tar archives: entries sorted by path, parents added, owner
 * 0:0 with no names, one fixed mtime, fixed modes. The same entries give the
 * same bytes on every machine, which is what makes layer and package digests
 * reproducible. tar-stream does the header encoding (ustar, pax for long names).
 */
export type ArchiveEntryType = 'file' | 'directory' | 'symlink';

export interface ArchiveEntry {
  /** Relative POSIX path inside the archive, no leading `/` or `./`. */
  path: string;
  type: ArchiveEntryType;
  /** Permission bits; defaults: 0o755 for directories, 0o644 for files. */
  mode?: number;
  content?: Buffer;
  /** Target of a symlink. */
  linkTarget?: string;
  /** Numeric owner (COPY --chown); default 0:0. User and group names are never written. */
  uid?: number;
  gid?: number;
}

export interface TarOptions {
  /** Seconds since the epoch written as every entry's mtime (SOURCE_DATE_EPOCH). */
  mtime: number;
  /**
   * Write the parent folders of every entry (0755, root); default true. An
   * image layer over a base leaves them out, so the base's folders keep their
   * modes and owners.
   */
  includeParents?: boolean;
}

/** Normalises an archive path and refuses ones that climb out of the root. */
export function normalizeEntryPath(path: string): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/')).replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  if (normalized === '' || normalized === '.' || normalized === '..' || normalized.startsWith('../')) {
    throw new MultiarchError(`Archive path "${path}" is outside the archive root.`, 'Use a path inside the image or package.');
  }
  return normalized;
}

/** Sorts by path, byte order, after adding the parent folders every entry needs (unless told not to). */
export function completeAndSort(entries: readonly ArchiveEntry[], includeParents = true): ArchiveEntry[] {
  const byPath = new Map<string, ArchiveEntry>();
  for (const entry of entries) {
    const path = normalizeEntryPath(entry.path);
    byPath.set(path, { ...entry, path });
  }
  for (const path of includeParents ? [...byPath.keys()] : []) {
    let parent = posix.dirname(path);
    while (parent !== '.' && !byPath.has(parent)) {
      byPath.set(parent, { path: parent, type: 'directory' });
      parent = posix.dirname(parent);
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function createTar(entries: readonly ArchiveEntry[], options: TarOptions): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date(options.mtime * 1000);
  for (const entry of completeAndSort(entries, options.includeParents ?? true)) {
    const common = { mtime, uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: '' };
    if (entry.type === 'directory') {
      pack.entry({ ...common, name: `${entry.path}/`, type: 'directory', mode: entry.mode ?? 0o755 });
    } else if (entry.type === 'symlink') {
      pack.entry({ ...common, name: entry.path, type: 'symlink', linkname: entry.linkTarget ?? '', mode: entry.mode ?? 0o777 });
    } else {
      const content = entry.content ?? Buffer.alloc(0);
      pack.entry({ ...common, name: entry.path, type: 'file', size: content.length, mode: entry.mode ?? 0o644 }, content);
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Reads every entry of an (uncompressed) tar archive into memory. */
export async function readTar(archive: Buffer): Promise<ArchiveEntry[]> {
  const extract = tarStream.extract();
  const entries: ArchiveEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      parts.push(chunk as Buffer);
    });
    stream.on('end', () => {
      const path = header.name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
      if (path !== '' && path !== '.') {
        if (header.type === 'directory') entries.push({ path, type: 'directory', mode: header.mode });
        else if (header.type === 'symlink') entries.push({ path, type: 'symlink', linkTarget: header.linkname ?? '' });
        else if (header.type === 'file' || header.type === 'contiguous-file') {
          entries.push({ path, type: 'file', mode: header.mode, content: Buffer.concat(parts) });
        }
        // Hard links, devices and fifos are not needed by anything this plugin reads.
      }
      next();
    });
    stream.resume();
  });
  extract.end(archive);
  await done;
  return entries;
}
