import * as tarStream from 'tar-stream';
import { checkElfArch } from '../../platform/elf';
import type { PlatformSpec } from '../../platform/platforms';

/**
 * Layer tars as a docker daemon hands them out, read and written with every
 * header field kept (owners, modes, hard links, devices, pax records such as
 * xattrs) — unlike src/oci/tar.ts, which makes new archives from plain
 * files. Entries keep their order: BuildKit writes them in a sorted walk, and
 * a hard link must stay after the file it points to.
 */
export interface LayerEntry {
  header: tarStream.Header;
  content: Buffer;
}

export async function readLayerEntries(layer: Buffer): Promise<LayerEntry[]> {
  const extract = tarStream.extract();
  const entries: LayerEntry[] = [];
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
    extract.end(layer);
  });
  return entries;
}

/** pax records the header fields already carry; writing them again would duplicate them. */
const PAX_KEYS_IN_HEADER = new Set(['path', 'linkpath', 'size']);
/** pax time records (fractional seconds), clamped like the header's mtime. */
const PAX_TIME_KEYS = new Set(['mtime', 'atime', 'ctime']);

export async function writeLayerEntries(entries: readonly LayerEntry[]): Promise<Buffer> {
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

function paxRecords(header: tarStream.Header): Record<string, string> | undefined {
  if (!header.pax || typeof header.pax !== 'object') return undefined;
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(header.pax as Record<string, string>)) {
    if (!PAX_KEYS_IN_HEADER.has(key)) kept[key] = value;
  }
  return kept;
}

/**
 * Clamps every time in the layer to `sourceDateEpoch` (what BuildKit later
 * does with rewrite-timestamp): files COPY'd from a checkout carry the
 * checkout's mtimes, and RUN writes the build's clock; both change digests
 * between machines. Times already at or before the epoch (a base image's
 * files) stay, so an untouched base layer keeps its bytes and diff_id.
 * Returns the same buffer when nothing needed clamping.
 */
export async function clampLayerTimes(layer: Buffer, sourceDateEpoch: number): Promise<{ tar: Buffer; clamped: number }> {
  const entries = await readLayerEntries(layer);
  const limitMs = sourceDateEpoch * 1000;
  let clamped = 0;
  const rewritten = entries.map(({ header, content }) => {
    let changed = false;
    const next: tarStream.Header = { ...header };
    if (header.mtime && header.mtime.getTime() > limitMs) {
      next.mtime = new Date(limitMs);
      changed = true;
    }
    if (header.pax && typeof header.pax === 'object') {
      const pax = { ...(header.pax as Record<string, string>) };
      for (const key of PAX_TIME_KEYS) {
        if (pax[key] !== undefined && Number.parseFloat(pax[key]) > sourceDateEpoch) {
          pax[key] = String(sourceDateEpoch);
          changed = true;
        }
      }
      next.pax = pax;
    }
    if (changed) clamped += 1;
    return { header: next, content };
  });
  if (clamped === 0) return { tar: layer, clamped };
  return { tar: await writeLayerEntries(rewritten), clamped };
}

/**
 * Checks every ELF file of a layer against the target arch (throws on the
 * first mismatch, naming the file); returns how many ELF files it saw.
 */
export async function checkLayerElfFiles(layer: Buffer, platform: PlatformSpec, layerName: string): Promise<number> {
  let elfFiles = 0;
  for (const { header, content } of await readLayerEntries(layer)) {
    if (header.type !== 'file' && header.type !== 'contiguous-file') continue;
    if (checkElfArch(content, platform, `/${header.name.replace(/^\.?\/+/, '')} (in ${layerName})`)) elfFiles += 1;
  }
  return elfFiles;
}
