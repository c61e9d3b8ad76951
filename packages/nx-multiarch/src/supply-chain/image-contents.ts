import { createWriteStream } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { readFileRange } from '../oci/file-source';
import { gunzipStream } from '../oci/gzip';
import { readTarStream, type ArchiveEntry } from '../oci/tar';
import { OciLayoutReader } from '../oci/layout';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types';
import { MultiarchError } from '../errors';
import { isDpkgStatusPath } from './dpkg-status';
import { ELF_MAGIC, RUSTC_VERSION_MARKER, rustcVersionAt, rustcVersionOf } from './go-modules';
import { GO_BUILDINFO_ALIGN, GO_BUILDINFO_MAGIC, goBuildInfoInFile, goBuildInfoOf, goBuildInfoOffset, type GoBuildInfoText } from './go-buildinfo';
import { makeSystemTempDir } from '../util/system-temp';

/**
 * What the SBOM and the provenance need of an image's root file system, read
 * back from the OCI layout the engine just wrote (what ships, not what the
 * build meant to put there), with whiteouts (`.wh.<name>`, `.wh..wh..opq`)
 * applied so a file a later layer deletes is not counted.
 *
 * The layers are read as streams (blob, digest check, gunzip, tar entries),
 * and of each file only what the SBOM uses is kept: a dpkg status file's
 * text, the rustc version an ELF file names, and a Go binary's build info
 * (read from its bytes; binaries of Go before 1.18 are copied out to a
 * temporary folder for `go version -m`). A 3 GB data file passes through a few
 * MB; an ELF file is held in memory up to ELF_IN_MEMORY_BYTES, and beyond
 * that written to the temporary folder while it streams, then scanned there.
 */
export interface ScannedFile {
  /** dpkg's database text (var/lib/dpkg/status, status.d/*). */
  dpkgStatus?: string;
  /** The rustc version an ELF file records ("rustc version 1.x.y (…)"). */
  rustcVersion?: string;
  /** A Go binary's version and module info, read from its bytes. */
  goBuildInfo?: GoBuildInfoText;
  /** A copy on disk of a Go binary whose build info is of the kind before Go 1.18, for `go version -m`; removed by dispose(). */
  goBinary?: string;
}

export interface ImageContents {
  manifest: Descriptor;
  config: Descriptor;
  /** org.opencontainers.image.base.* annotations of the manifest (the engine records its base there). */
  baseDigest?: string;
  baseName?: string;
  /** Files the SBOM has something to read from, by path, the last layer's version. */
  files: Map<string, ScannedFile>;
  /** Removes the copied-out Go binaries. */
  dispose(): Promise<void>;
}

/** ELF files up to this size are scanned in memory; bigger ones on disk (memory stays bounded). */
export const ELF_IN_MEMORY_BYTES = 32 * 1024 * 1024;

/** A file's bytes, whole in memory when small, else in a file of `dir`. */
type Collected = { bytes: Buffer } | { path: string };

async function collect(content: AsyncIterable<Buffer>, first: Buffer[], dir: string, name: string): Promise<Collected> {
  const held = [...first];
  let heldBytes = held.reduce((sum, chunk) => sum + chunk.length, 0);
  const iterator = content[Symbol.asyncIterator]();
  for (;;) {
    if (heldBytes > ELF_IN_MEMORY_BYTES) break;
    const next = await iterator.next();
    if (next.done) return { bytes: Buffer.concat(held) };
    held.push(next.value);
    heldBytes += next.value.length;
  }
  const path = join(dir, name);
  const out = createWriteStream(path);
  const write = (chunk: Buffer) => (out.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  for (const chunk of held) await write(chunk);
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) await write(next.value);
  out.end();
  await finished(out);
  return { path };
}

/** Where `needle` first occurs in the file at `path` (streamed) at an offset that is a multiple of `align`, or -1. */
async function offsetInFile(path: string, needle: Buffer, align = 1): Promise<number> {
  const handle = await open(path, 'r');
  try {
    let carry = Buffer.alloc(0);
    let base = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      // The last needle.length - 1 bytes ride along, so a needle across two chunks is found.
      const window = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      for (let at = window.indexOf(needle); at >= 0; at = window.indexOf(needle, at + 1)) {
        if ((base - carry.length + at) % align === 0) return base - carry.length + at;
      }
      base += chunk.length;
      carry = Buffer.from(window.subarray(Math.max(0, window.length - (needle.length - 1))));
    }
    return -1;
  } finally {
    await handle.close();
  }
}

/** Reads the first bytes of a stream (at least `count`, unless it ends first). */
async function head(content: AsyncIterable<Buffer>, count: number): Promise<{ chunks: Buffer[]; bytes: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = content[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  return { chunks, bytes: Buffer.concat(chunks).subarray(0, count), rest: { [Symbol.asyncIterator]: () => iterator } };
}

async function drain(content: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of content) void _;
}

/** What the SBOM needs of one regular file, its bytes consumed to the end; an ELF file kept on disk goes to `dir`/`name`. */
async function scanFile(path: string, content: Readable, dir: string, name: string): Promise<ScannedFile | undefined> {
  if (isDpkgStatusPath(path)) {
    const chunks: Buffer[] = [];
    for await (const chunk of content as AsyncIterable<Buffer>) chunks.push(chunk);
    return { dpkgStatus: Buffer.concat(chunks).toString('utf8') };
  }
  const start = await head(content, ELF_MAGIC.length);
  if (!start.bytes.equals(ELF_MAGIC)) {
    await drain(start.rest);
    return undefined;
  }
  const collected = await collect(start.rest, start.chunks, dir, name);
  if ('bytes' in collected) {
    const rustcVersion = rustcVersionOf(collected.bytes);
    const header = goBuildInfoOffset(collected.bytes);
    if (header < 0) return scanned(rustcVersion, {});
    const goBuildInfo = goBuildInfoOf(collected.bytes, header);
    if (goBuildInfo) return scanned(rustcVersion, { goBuildInfo });
    // Built before Go 1.18: a copy on disk for `go version -m`.
    const goBinary = join(dir, name);
    await writeFile(goBinary, collected.bytes);
    return scanned(rustcVersion, { goBinary });
  }
  const marker = await offsetInFile(collected.path, RUSTC_VERSION_MARKER);
  const rustcVersion = marker < 0 ? undefined : rustcVersionAt(await readFileRange(collected.path, marker, 4096), 0);
  const header = await offsetInFile(collected.path, GO_BUILDINFO_MAGIC, GO_BUILDINFO_ALIGN);
  const goBuildInfo = header < 0 ? undefined : await goBuildInfoInFile(collected.path, header);
  // The file stays only as the copy `go version -m` reads (a Go binary built before Go 1.18).
  if (header < 0 || goBuildInfo) await rm(collected.path, { force: true });
  return scanned(rustcVersion, goBuildInfo ? { goBuildInfo } : header < 0 ? {} : { goBinary: collected.path });
}

function scanned(rustcVersion: string | undefined, go: Pick<ScannedFile, 'goBuildInfo' | 'goBinary'>): ScannedFile | undefined {
  return rustcVersion || go.goBuildInfo || go.goBinary ? { ...(rustcVersion ? { rustcVersion } : {}), ...go } : undefined;
}

export async function readImageContents(layoutDir: string): Promise<ImageContents> {
  const reader = new OciLayoutReader(layoutDir);
  const index: ImageIndex = await reader.readIndex();
  const manifestDescriptor = index.manifests[0];
  if (!manifestDescriptor || index.manifests.length !== 1) {
    throw new MultiarchError(`The layout at ${layoutDir} does not hold exactly one image manifest.`, 'Rebuild the image.');
  }
  const manifest = await reader.readJson<ImageManifest>(manifestDescriptor.digest);
  const dir = await makeSystemTempDir('sbom');
  const dispose = () => rm(dir, { recursive: true, force: true });
  const files = new Map<string, ScannedFile>();
  let fileCount = 0;
  try {
    for (const layer of manifest.layers) {
      const { stream } = await reader.openBlob(layer.digest, layer.size);
      const tar = openLayer(layer, stream);
      await readTarStream(tar, async (entry, content) => {
        applyWhiteouts(files, entry);
        if (entry.type === 'directory' || isWhiteout(entry.path)) return;
        // A later layer's version of a path replaces the earlier one, whatever it is (set keeps the path's
        // place in the map, so the SBOM lists things in the same order as when whole layers were read).
        const scanned = entry.type === 'file' && content ? await scanFile(entry.path, content, dir, `elf-${fileCount++}`) : undefined;
        if (scanned) files.set(entry.path, scanned);
        else files.delete(entry.path);
      });
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    manifest: manifestDescriptor,
    config: manifest.config,
    baseDigest: manifest.annotations?.['org.opencontainers.image.base.digest'],
    baseName: manifest.annotations?.['org.opencontainers.image.base.name'],
    files,
    dispose,
  };
}

/** The layer's tar stream; a compression the reader cannot open is named. */
function openLayer(layer: Descriptor, blob: Readable): Readable {
  const type = layer.mediaType;
  const gzip = type.endsWith('+gzip') || type.endsWith('.gzip');
  const tar = type.endsWith('.tar') || type.endsWith('.tar.v1') || type.endsWith('diff.tar');
  if (!gzip && !tar) {
    blob.destroy();
    throw new MultiarchError(`Layer ${layer.digest} has media type ${layer.mediaType}, which the SBOM reader cannot open.`, 'Use gzip or uncompressed layers.');
  }
  return tar ? blob : gunzipStream(blob);
}

function isWhiteout(path: string): boolean {
  return path.slice(path.lastIndexOf('/') + 1).startsWith('.wh.');
}

function applyWhiteouts(files: Map<string, ScannedFile>, entry: ArchiveEntry): void {
  const slash = entry.path.lastIndexOf('/');
  const dir = slash < 0 ? '' : entry.path.slice(0, slash + 1);
  const name = entry.path.slice(slash + 1);
  if (name === '.wh..wh..opq') {
    for (const path of [...files.keys()]) if (path.startsWith(dir)) files.delete(path);
    return;
  }
  if (name.startsWith('.wh.')) {
    const gone = dir + name.slice(4);
    for (const path of [...files.keys()]) if (path === gone || path.startsWith(`${gone}/`)) files.delete(path);
  }
}
