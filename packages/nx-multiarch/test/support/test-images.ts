import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { gzipDeterministic } from '../../src/oci/gzip';
import { createTar } from '../../src/oci/tar';
import { sha256Digest } from '../../src/oci/digest';
import { OciLayoutWriter } from '../../src/oci/layout';
import { ImageConfig, ImageManifest, MediaTypes, toPlatform } from '../../src/oci/types';
import { Arch, PLATFORMS, platformString } from '../../src/platform';
import { outputDir } from '../../src/outputs/paths';

/**
 * Writes per-arch OCI layouts into <workspace>/dist/images/<project>/<arch>/,
 * shaped as docker-arch-build writes them (layout plus image.json), so the
 * push path can be tested without a build. Each image has a base layer shared
 * by every arch and project (same bytes), and an app layer of its own; bytes
 * are pseudo-random from a seed, so reruns give the same digests.
 */
export interface TestImageOptions {
  /** Size of each image's own layer before compression (it barely compresses). */
  appLayerBytes?: number;
  /** Size of the shared base layer. */
  baseLayerBytes?: number;
  /** Changes every digest of this project's own layers. */
  seed?: string;
}

function pseudoRandom(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let counter = 0;
  for (let offset = 0; offset < size; offset += 32) {
    createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, offset);
  }
  return out;
}

async function layer(name: string, size: number, seed: string): Promise<Buffer> {
  const tar = await createTar([{ path: name, type: 'file', mode: 0o644, content: pseudoRandom(size, seed) }], { mtime: 0 });
  return gzipDeterministic(tar);
}

export async function writeTestImages(workspaceRoot: string, project: string, arches: readonly Arch[], options: TestImageOptions = {}): Promise<void> {
  const seed = options.seed ?? project;
  const base = await layer('base.bin', options.baseLayerBytes ?? 64 * 1024, 'shared-base');
  for (const arch of arches) {
    const dir = outputDir(workspaceRoot, 'images', project, arch);
    await mkdir(dir, { recursive: true });
    const writer = new OciLayoutWriter(dir);
    await writer.init();
    const app = await layer(`${project}-${arch}.bin`, options.appLayerBytes ?? 128 * 1024, `${seed}:${arch}`);
    const layers = [await writer.writeBlob(base, MediaTypes.ociLayerGzip), await writer.writeBlob(app, MediaTypes.ociLayerGzip)];
    const oci = PLATFORMS[arch].oci;
    const config: ImageConfig = {
      created: '1970-01-01T00:00:00Z',
      architecture: oci.architecture,
      os: oci.os,
      ...(oci.variant ? { variant: oci.variant } : {}),
      config: { Entrypoint: [`/${project}`] },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(Buffer.from('x')), sha256Digest(Buffer.from('y'))] },
    };
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers };
    const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    await writer.writeIndex([{ ...manifestDescriptor, platform: toPlatform(oci) }]);
    const summary: ImageSummary = {
      project,
      arch,
      platform: platformString(oci),
      engine: 'native',
      manifestDigest: manifestDescriptor.digest,
      configDigest: configDescriptor.digest,
      size: configDescriptor.size + layers.reduce((s, l) => s + l.size, 0),
      layers: layers.length,
      tags: [],
      layout: '.',
    };
    await writeFile(join(dir, 'image.json'), JSON.stringify(summary, null, 2));
  }
}
