import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createTar } from '../oci/tar';
import { MultiarchError } from '../errors';
import { sha256Digest } from '../oci/digest';
import { OciLayoutWriter } from '../oci/layout';
import { MediaTypes, toPlatform, type ImageConfig, type ImageManifest } from '../oci/types';
import type { PlatformSpec } from '../platform/platforms';
import { DEFAULT_PATH } from './process-spec';

/**
 * A one-file image around a per-arch binary (the CLI ships as a binary, not
 * an image), so every runner starts binaries exactly as it starts images:
 * the qemu runner unpacks it, docker loads it. The layer is an uncompressed
 * tar: it only lives for the test run.
 */
export async function binaryImageLayout(binaryPath: string, platform: PlatformSpec, parentDir: string): Promise<string> {
  let content: Buffer;
  try {
    if (!(await stat(binaryPath)).isFile()) throw new Error('not a file');
    content = await readFile(binaryPath);
  } catch {
    throw new MultiarchError(`No binary at ${binaryPath}.`, `Build it for ${platform.arch} first, e.g. nx run <project>:go-cross --arch=${platform.arch}.`);
  }
  const name = basename(binaryPath);
  const dir = join(parentDir, `binary-${sha256Digest(content).slice(7, 23)}-${platform.arch}`);
  if (await stat(join(dir, 'index.json')).then(() => true, () => false)) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const writer = new OciLayoutWriter(partial);
  await writer.init();
  const tar = await createTar([{ path: name, type: 'file', mode: 0o755, content }], { mtime: 0 });
  const layer = await writer.writeBlob(tar, MediaTypes.ociLayerTar);
  const config: ImageConfig = {
    ...toPlatform(platform.oci),
    config: { Entrypoint: [`/${name}`], Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  };
  const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [layer] };
  const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
  await writer.writeIndex([{ ...manifestDescriptor, platform: toPlatform(platform.oci) }]);
  await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another test file of the same run made it first: theirs is identical.
    await rm(partial, { recursive: true, force: true });
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  return dir;
}
