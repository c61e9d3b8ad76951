import { readFile } from 'node:fs/promises';
import { gzipDeterministic } from '../../src/oci/gzip';
import { createTar } from '../../src/oci/tar';
import { canonicalJson } from '../../src/oci/canonical-json';
import { sha256Digest } from '../../src/oci/digest';
import { blobPath, OciLayoutReader, OciLayoutWriter } from '../../src/oci/layout';
import { Annotations, MediaTypes, toPlatform, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../../src/oci/types';
import { PLATFORMS, type Arch } from '../../src/platform/platforms';
import { RegistryClient } from '../../src/registry';
import { busyboxBinary } from './busybox';

/**
 * A small multi-arch base image made from Debian's busybox-static: one layer
 * (bin/busybox, bin/sh -> busybox, a sticky tmp/) per arch, written as ONE
 * OCI layout whose index.json lists a manifest per platform — or, with
 * `nested`, an index.json pointing at an image index, as `skopeo copy --all`
 * writes — and pushable to a registry as a multi-arch index.
 */
export const BASE_EPOCH = 1600000000;

export interface BusyboxBase {
  layoutDir: string;
  /** Manifest descriptor (with platform) per arch. */
  manifests: Partial<Record<Arch, Descriptor>>;
  /** Digest of the busybox binary per arch, to find it in built images. */
  binaries: Partial<Record<Arch, Buffer>>;
}

export async function writeBusyboxBase(layoutDir: string, arches: readonly Arch[], options: { nested?: boolean; refName?: string; /** The test.base label (default busybox): another value gives another image of the same files. */ label?: string } = {}): Promise<BusyboxBase> {
  const writer = new OciLayoutWriter(layoutDir);
  await writer.init();
  const manifests: Partial<Record<Arch, Descriptor>> = {};
  const binaries: Partial<Record<Arch, Buffer>> = {};
  for (const arch of arches) {
    const spec = PLATFORMS[arch];
    const busybox = await busyboxBinary(spec.debianArch);
    binaries[arch] = busybox;
    const tar = await createTar(
      [
        { path: 'bin/busybox', type: 'file', mode: 0o755, content: busybox },
        { path: 'bin/sh', type: 'symlink', linkTarget: 'busybox' },
        { path: 'tmp', type: 'directory', mode: 0o1777 },
      ],
      { mtime: BASE_EPOCH },
    );
    const layer = await writer.writeBlob(gzipDeterministic(tar), MediaTypes.ociLayerGzip);
    const config: ImageConfig = {
      created: new Date(BASE_EPOCH * 1000).toISOString().replace('.000Z', 'Z'),
      architecture: spec.oci.architecture,
      os: spec.oci.os,
      ...(spec.oci.variant ? { variant: spec.oci.variant } : {}),
      config: { Env: ['PATH=/bin', 'BASE=busybox'], Cmd: ['/bin/sh'], Labels: { 'test.base': options.label ?? 'busybox' } },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
      history: [{ created: '2020-09-13T12:26:40Z', created_by: 'busybox-static from Debian' }],
    };
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [layer] };
    const descriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    manifests[arch] = { ...descriptor, platform: toPlatform(spec.oci) };
  }
  const listed = arches.map((arch) => manifests[arch] as Descriptor);
  const refAnnotations = { [Annotations.refName]: options.refName ?? 'latest' };
  if (options.nested) {
    const inner: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: listed };
    const innerDescriptor = await writer.writeJsonBlob(inner, MediaTypes.ociIndex);
    await writer.writeIndex([{ ...innerDescriptor, annotations: refAnnotations }]);
  } else {
    await writer.writeIndex(listed.map((d) => ({ ...d, annotations: refAnnotations })));
  }
  return { layoutDir, manifests, binaries };
}

/**
 * Pushes every image of a flat multi-platform layout (as writeBusyboxBase
 * writes it) to a registry: blobs, then each manifest by digest, then an
 * image index by tag. Returns the index digest.
 */
export async function pushBase(registry: string, repository: string, tag: string, base: BusyboxBase): Promise<string> {
  const client = new RegistryClient({ registry });
  const reader = new OciLayoutReader(base.layoutDir);
  try {
    const listed: Descriptor[] = [];
    for (const descriptor of Object.values(base.manifests) as Descriptor[]) {
      const body = await reader.readBlob(descriptor.digest);
      const manifest = JSON.parse(body.toString('utf8')) as ImageManifest;
      for (const blob of [manifest.config, ...manifest.layers]) {
        await client.pushBlob(repository, { path: blobPath(base.layoutDir, blob.digest) }, blob.digest, { size: blob.size });
      }
      await client.putManifest(repository, descriptor.digest, body, MediaTypes.ociManifest);
      listed.push({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, platform: descriptor.platform });
    }
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: listed };
    return await client.putManifest(repository, tag, Buffer.from(canonicalJson(index)), MediaTypes.ociIndex);
  } finally {
    client.close();
  }
}

/** Reads a file of a layout by digest (for tests that corrupt blobs). */
export function readLayoutBlob(layoutDir: string, digest: Descriptor['digest']): Promise<Buffer> {
  return readFile(blobPath(layoutDir, digest));
}
