import type * as tarStream from 'tar-stream';
import { readTarEntries, writeTarEntries } from '../../oci/tar';
import { checkElfArch } from '../../platform/elf';
import type { PlatformSpec } from '../../platform/platforms';

/**
 * Checks and rewrites of the layer tars a docker daemon hands out. They are
 * read and written with oci/tar's header-keeping reader and writer (owners,
 * modes, hard links, devices, pax records such as xattrs stay), in their
 * order: BuildKit writes them in a sorted walk, and a hard link must stay
 * after the file it points to.
 */

/** pax time records (fractional seconds), clamped like the header's mtime. */
const PAX_TIME_KEYS = new Set(['mtime', 'atime', 'ctime']);

/**
 * Clamps every time in the layer to `sourceDateEpoch` (what BuildKit later
 * does with rewrite-timestamp): files COPY'd from a checkout carry the
 * checkout's mtimes, and RUN writes the build's clock; both change digests
 * between machines. Times already at or before the epoch (a base image's
 * files) stay, so an untouched base layer keeps its bytes and diff_id.
 * Returns the same buffer when nothing needed clamping.
 */
export async function clampLayerTimes(layer: Buffer, sourceDateEpoch: number): Promise<{ tar: Buffer; clamped: number }> {
  const entries = await readTarEntries(layer);
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
  return { tar: await writeTarEntries(rewritten), clamped };
}

/**
 * Checks every ELF file of a layer against the target arch (throws on the
 * first mismatch, naming the file); returns how many ELF files it saw.
 */
export async function checkLayerElfFiles(layer: Buffer, platform: PlatformSpec, layerName: string): Promise<number> {
  let elfFiles = 0;
  for (const { header, content } of await readTarEntries(layer)) {
    if (header.type !== 'file' && header.type !== 'contiguous-file') continue;
    if (checkElfArch(content, platform, `/${header.name.replace(/^\.?\/+/, '')} (in ${layerName})`)) elfFiles += 1;
  }
  return elfFiles;
}
