import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Plugin } from './plugin';

/**
 * Synthetic images for the push benchmarks (repush-run.ts, push-measure.ts):
 * layers of seeded pseudo-random bytes, so every run pushes the same digests
 * and a layer does not compress away.
 */
export type BenchArch = keyof Plugin['PLATFORMS'];

/** `size` bytes from `seed`: the same seed gives the same bytes on every run. */
export function bytesFrom(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

/**
 * One single-platform image of `layers` (gzipped tars, in order) for `arch`,
 * as an OCI layout at `dir` (created), laid out as docker-arch-build leaves
 * dist/images/<project>/<arch>: a minimal config and one manifest in the index.
 */
export async function writeSyntheticImage(plugin: Plugin, dir: string, arch: BenchArch, layers: readonly Buffer[]): Promise<void> {
  const { OciLayoutWriter, MediaTypes, PLATFORMS, toPlatform } = plugin;
  mkdirSync(dir, { recursive: true });
  const w = new OciLayoutWriter(dir);
  await w.init();
  const descriptors = [];
  for (const layer of layers) descriptors.push(await w.writeBlob(layer, MediaTypes.ociLayerGzip));
  const oci = PLATFORMS[arch].oci;
  const config = await w.writeJsonBlob(
    { architecture: oci.architecture, os: oci.os, ...(oci.variant ? { variant: oci.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } },
    MediaTypes.ociConfig,
  );
  const manifest = await w.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: descriptors }, MediaTypes.ociManifest);
  await w.writeIndex([{ ...manifest, platform: toPlatform(oci) }]);
}
