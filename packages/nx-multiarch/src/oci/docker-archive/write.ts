import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTar, type ArchiveEntry } from '../tar';
import { digestHex } from '../digest';
import { Annotations, MediaTypes, type ImageIndex } from '../types';
import type { LayoutImage } from '../image-source';

/**
 * A tar that `docker load` reads, made from an OCI layout without skopeo:
 * the layout's own files (oci-layout, index.json, blobs/) plus Docker's
 * `manifest.json`, whose Config and Layers point at those same blobs. Docker
 * 20.10 reads manifest.json; newer engines read either.
 */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export function dockerArchiveManifest(image: LayoutImage, tag: string): DockerArchiveManifestEntry[] {
  const blob = (digest: `sha256:${string}`) => `blobs/sha256/${digestHex(digest)}`;
  return [{ Config: blob(image.manifest.config.digest), RepoTags: [tag], Layers: image.manifest.layers.map((l) => blob(l.digest)) }];
}

export async function dockerArchive(image: LayoutImage, tag: string): Promise<Buffer> {
  const entries: ArchiveEntry[] = [];
  const blobsDir = join(image.layoutDir, 'blobs', 'sha256');
  const wanted = new Set([image.manifestDigest, image.manifest.config.digest, ...image.manifest.layers.map((l) => l.digest)].map(digestHex));
  for (const name of await readdir(blobsDir)) {
    // Only this image's blobs: a layout may hold other platforms' images too.
    if (wanted.has(name)) entries.push({ path: `blobs/sha256/${name}`, type: 'file', content: await readFile(join(blobsDir, name)) });
  }
  entries.push({ path: 'oci-layout', type: 'file', content: await readFile(join(image.layoutDir, 'oci-layout')) });
  // A one-image index as well, for engines that load through the containerd image store.
  const manifestBytes = await readFile(join(blobsDir, digestHex(image.manifestDigest)));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [
      {
        mediaType: image.manifest.mediaType ?? MediaTypes.ociManifest,
        digest: image.manifestDigest,
        size: manifestBytes.length,
        annotations: { 'io.containerd.image.name': tag, [Annotations.refName]: tag.slice(tag.lastIndexOf(':') + 1) },
      },
    ],
  };
  entries.push({ path: 'index.json', type: 'file', content: Buffer.from(JSON.stringify(index)) });
  entries.push({ path: 'manifest.json', type: 'file', content: Buffer.from(JSON.stringify(dockerArchiveManifest(image, tag))) });
  return createTar(entries, { mtime: 0 });
}
