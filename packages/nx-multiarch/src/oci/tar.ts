import * as tarStream from 'tar-stream';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { MultiarchError } from '../errors';
import { readFileSource, type FileSource } from './file-source';

/**
 * The plugin's one home for tar. Writing: deterministic archives (entries
 * sorted by path, parents added, owner 0:0 with no names, one fixed mtime,
 * fixed modes), so the same entries give the same bytes on every machine,
 * which is what makes layer and package digests reproducible. Reading: plain
 * entries (readTar, with hard links and climbing-path refusal as options) or
 * raw headers kept for a faithful rewrite (readTarEntries/writeTarEntries).
 * tar-stream does the header encoding (ustar, pax for long names).
 */
export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface ArchiveEntry {
  /** Relative POSIX path inside the archive, no leading `/` or `./`. */
  path: string;
  type: ArchiveEntryType;
  /** Permission bits; defaults: 0o755 for directories, 0o644 for files. */
  mode?: number;
  content?: Buffer;
  /** A file's bytes on disk, streamed when the archive is written (instead of `content`). */
  source?: FileSource;
  /** Target of a symlink, or the archive path a hard link points at. */
  linkTarget?: string;
  /** Numeric owner (COPY --chown); default 0:0. User and group names are never written. */
  uid?: number;
  gid?: number;
  /**
   * Extended attributes (e.g. `security.capability` from setcap), written as
   * PAX `SCHILY.xattr.<name>` records with the value's bytes as they are.
   */
  xattrs?: Readonly<Record<string, Buffer>>;
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

type TarHeader = Partial<tarStream.Header> & Pick<tarStream.Header, 'name'>;

/**
 * PAX records for an entry's xattrs. tar-stream writes PAX values as UTF-8
 * text, which would change binary values such as a vfs_cap_data; so each
 * value goes in as a placeholder of the same byte length (ASCII, made of the
 * value's own digest so it is the same in every run), and the archive's
 * stream puts the bytes in its place (xattrPatcher). PAX headers carry no
 * checksum over their records, and the lengths do not change.
 */
interface XattrPatch {
  marker: Buffer;
  value: Buffer;
}

function xattrPlaceholders(entry: ArchiveEntry, patches: XattrPatch[]): Record<string, string> | undefined {
  const names = Object.keys(entry.xattrs ?? {}).sort();
  if (names.length === 0) return undefined;
  const records: Record<string, string> = {};
  for (const name of names) {
    const value = (entry.xattrs as Record<string, Buffer>)[name];
    const seed = createHash('sha256').update(entry.path).update('\0').update(name).update('\0').update(value).digest('hex');
    const placeholder = seed.repeat(Math.ceil(value.length / seed.length) + 1).slice(0, value.length);
    records[`SCHILY.xattr.${name}`] = placeholder;
    patches.push({ marker: Buffer.from(` SCHILY.xattr.${name}=${placeholder}\n`, 'utf8'), value });
  }
  return records;
}

/**
 * Puts each xattr's bytes over its placeholder as the archive streams by, in
 * order. A marker may straddle two chunks, so the last bytes of each chunk
 * wait for the next one (at most the longest marker; PAX records are small).
 */
function xattrPatcher(patches: readonly XattrPatch[]): Transform {
  let next = 0;
  let pending = Buffer.alloc(0);
  const longest = () => patches.reduce((max, p) => Math.max(max, p.marker.length), 0);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
      let from = 0;
      while (next < patches.length) {
        const { marker, value } = patches[next];
        const at = data.indexOf(marker, from);
        if (at < 0) break;
        value.copy(data, at + marker.length - 1 - value.length);
        from = at + marker.length;
        next += 1;
      }
      const keep = Math.min(Math.max(longest() - 1, 0), data.length - from);
      pending = Buffer.from(data.subarray(data.length - keep));
      callback(null, data.subarray(0, data.length - keep));
    },
    flush(callback: TransformCallback) {
      if (next < patches.length) callback(new Error('tar: an xattr placeholder is missing from the archive'));
      else callback(null, pending);
    },
  });
}

/** The deterministic header of one entry (sorted and completed already). */
function headerOf(entry: ArchiveEntry, mtime: Date, pax: Record<string, string> | undefined): TarHeader {
  const common = { mtime, uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: '', ...(pax ? { pax } : {}) };
  if (entry.type === 'directory') return { ...common, name: `${entry.path}/`, type: 'directory', mode: entry.mode ?? 0o755 };
  if (entry.type === 'symlink') return { ...common, name: entry.path, type: 'symlink', linkname: entry.linkTarget ?? '', mode: entry.mode ?? 0o777 };
  if (entry.type === 'hardlink') return { ...common, name: entry.path, type: 'link', linkname: entry.linkTarget ?? '', mode: entry.mode ?? 0o644 };
  const size = entry.source ? entry.source.size : (entry.content ?? Buffer.alloc(0)).length;
  return { ...common, name: entry.path, type: 'file', size, mode: entry.mode ?? 0o644 };
}

/** Writes one file entry whose bytes come from disk, waiting for the archive's reader (backpressure). */
async function packFileEntry(pack: tarStream.Pack, header: TarHeader, source: FileSource): Promise<void> {
  let packError: Error | undefined;
  const written = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
    // The failure is reported through the promise; the sink's own error event only repeats it.
    sink.on('error', () => undefined);
    const drained = () => new Promise<void>((next) => sink.once('drain', () => next()));
    (async () => {
      try {
        for await (const chunk of readFileSource(source)) {
          if (!sink.write(chunk)) await drained();
        }
        // streamx's end takes an optional last chunk; none here.
        sink.end(undefined);
      } catch (error) {
        packError = error as Error;
        sink.destroy(packError);
        reject(packError);
      }
    })();
  });
  await written.catch((error: unknown) => {
    throw packError ?? error;
  });
}

/**
 * The deterministic archive as a stream: headers and in-memory contents as
 * createTar writes them, file sources read from disk chunk by chunk, so an
 * archive of any size passes through a few MB of memory. Same entries, same
 * bytes as createTar.
 */
export function packTar(entries: readonly ArchiveEntry[], options: TarOptions): Readable {
  const pack = tarStream.pack();
  const mtime = new Date(options.mtime * 1000);
  const sorted = completeAndSort(entries, options.includeParents ?? true);
  const patches: XattrPatch[] = [];
  const out = new Readable({ read: () => pack.resume() });
  pack.on('data', (chunk: unknown) => {
    if (!out.push(chunk as Buffer)) pack.pause();
  });
  pack.on('end', () => out.push(null));
  pack.on('error', (error: Error) => out.destroy(error));
  (async () => {
    for (const entry of sorted) {
      const header = headerOf(entry, mtime, xattrPlaceholders(entry, patches));
      if (entry.type === 'file' && entry.source) await packFileEntry(pack, header, entry.source);
      else {
        await new Promise<void>((resolve, reject) => {
          const done = (error?: Error | null) => (error ? reject(error) : resolve());
          if (entry.type === 'file') pack.entry(header, entry.content ?? Buffer.alloc(0), done);
          else pack.entry(header, done);
        });
      }
    }
    pack.finalize();
  })().catch((error: unknown) => {
    pack.destroy();
    out.destroy(error as Error);
  });
  if (!sorted.some((entry) => Object.keys(entry.xattrs ?? {}).length > 0)) return out;
  const patched = xattrPatcher(patches);
  out.on('error', (error) => patched.destroy(error));
  return out.pipe(patched);
}

export async function createTar(entries: readonly ArchiveEntry[], options: TarOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of packTar(entries, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * One entry of an existing archive with every header field kept (owners,
 * modes, times, link names, devices, pax records such as xattrs): what a
 * rewrite of someone else's layer must carry over unchanged.
 */
export interface RawTarEntry {
  header: tarStream.Header;
  content: Buffer;
}

/** Reads every entry of an (uncompressed) tar archive into memory, in archive order, headers as they are. */
export async function readTarEntries(archive: Buffer): Promise<RawTarEntry[]> {
  const extract = tarStream.extract();
  const entries: RawTarEntry[] = [];
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        parts.push(chunk as Buffer);
      });
      stream.on('end', () => {
        entries.push({ header: { ...header }, content: Buffer.concat(parts) });
        next();
      });
      stream.on('error', reject);
    });
    extract.end(archive);
  });
  return entries;
}

/** pax records the header fields already carry; writing them again would duplicate them. */
const PAX_KEYS_IN_HEADER = new Set(['path', 'linkpath', 'size']);

function paxRecords(header: tarStream.Header): Record<string, string> | undefined {
  if (!header.pax || typeof header.pax !== 'object') return undefined;
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(header.pax as Record<string, string>)) {
    if (!PAX_KEYS_IN_HEADER.has(key)) kept[key] = value;
  }
  return kept;
}

/** Writes entries read by readTarEntries (possibly edited) back, in the given order, headers as they are. */
export async function writeTarEntries(entries: readonly RawTarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const { header, content } of entries) {
    const pax = paxRecords(header);
    const out: tarStream.Header = { ...header, pax: pax && Object.keys(pax).length > 0 ? pax : null };
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (header.type === 'file' || header.type === 'contiguous-file') pack.entry({ ...out, size: content.length }, content, callback);
      else pack.entry({ ...out, size: 0 }, callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface ReadTarOptions {
  /** Return hard links (type 'hardlink', linkTarget the archive path); default false: they are skipped. */
  hardLinks?: boolean;
  /**
   * Refuse an entry whose path (or hard link target) climbs out of the root
   * (`../x`); default true. Nothing this plugin reads has a reason to hold one.
   */
  refuseClimbing?: boolean;
}

/** `./a/b/`, `/a/b`, `a/./b` -> `a/b`. */
function cleanArchivePath(name: string): string {
  return posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/+$/, '');
}

function climbs(path: string): boolean {
  return path === '..' || path.startsWith('../');
}

/**
 * The one tar reader for plain contents: files, folders, symlinks (and hard
 * links when asked), paths cleaned. Devices and fifos are skipped: nothing
 * this plugin reads (packages, layers it unpacks without privileges) can use them.
 */
/** A header as a plain entry (content aside), or undefined for what readTar skips; throws on a climbing path when refused. */
function plainEntry(header: tarStream.Header, options: ReadTarOptions): ArchiveEntry | undefined {
  const refuseClimbing = options.refuseClimbing ?? true;
  const path = cleanArchivePath(header.name);
  if (path === '' || path === '.') return undefined;
  const linkTarget = header.type === 'link' ? cleanArchivePath(header.linkname ?? '') : undefined;
  if (refuseClimbing && (climbs(path) || (linkTarget !== undefined && climbs(linkTarget)))) {
    throw new MultiarchError(
      `Archive entry "${header.name}" points outside the archive root.`,
      'The archive (an image layer or a package) is malformed or hostile; rebuild it from a trusted source.',
    );
  }
  if (header.type === 'directory') return { path, type: 'directory', mode: header.mode };
  if (header.type === 'symlink') return { path, type: 'symlink', linkTarget: header.linkname ?? '' };
  if (header.type === 'link' && options.hardLinks) return { path, type: 'hardlink', mode: header.mode, linkTarget };
  if (header.type === 'file' || header.type === 'contiguous-file') return { path, type: 'file', mode: header.mode };
  return undefined;
}

export async function readTar(archive: Buffer, options: ReadTarOptions = {}): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  for (const { header, content } of await readTarEntries(archive)) {
    const entry = plainEntry(header, options);
    if (entry) entries.push(entry.type === 'file' ? { ...entry, content } : entry);
  }
  return entries;
}

/**
 * readTar as a stream: each entry handed to `onEntry` in archive order, a
 * file's bytes as a stream the handler must consume (write it to disk) before
 * the next entry comes. An archive of any size passes through a few MB.
 */
export async function readTarStream(
  archive: Readable,
  onEntry: (entry: ArchiveEntry, content: Readable | undefined) => Promise<void>,
  options: ReadTarOptions = {},
): Promise<void> {
  const extract = tarStream.extract();
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      archive.destroy();
      extract.destroy();
      reject(error);
    };
    extract.on('finish', resolve);
    extract.on('error', fail);
    archive.on('error', fail);
    extract.on('entry', (header, stream, next) => {
      (async () => {
        const entry = plainEntry(header, options);
        if (entry?.type === 'file') {
          await onEntry(entry, Readable.from(stream as AsyncIterable<Buffer>));
        } else {
          for await (const _ of stream as AsyncIterable<Buffer>) void _;
          if (entry) await onEntry(entry, undefined);
        }
      })().then(() => next(), fail);
    });
    archive.pipe(extract as unknown as NodeJS.WritableStream);
  });
}
