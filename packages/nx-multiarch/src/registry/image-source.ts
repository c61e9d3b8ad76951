import { BlobCache } from '../oci/blob-store';
import { verifyDigest } from '../oci/digest';
import type { ImageSource } from '../oci/image-source';
import type { Descriptor, Digest } from '../oci/types';
import type { RegistryClient } from './client';

/**
 * A repository of a registry as an image source: manifests fetched and
 * checked against their digest, configs and layers through a
 * content-addressed blob cache so a second build fetches nothing.
 */
export class RegistryImageSource implements ImageSource {
  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly cache: BlobCache,
    readonly description: string,
  ) {}

  async fetchDocument(descriptor: Descriptor): Promise<Buffer> {
    const response = await this.client.getManifest(this.repository, descriptor.digest);
    verifyDigest(response.body, descriptor.digest, `Manifest ${descriptor.digest} of ${this.description}`);
    return response.body;
  }

  fetchConfig(digest: Digest): Promise<Buffer> {
    return this.cache.read(digest, () => this.client.getBlob(this.repository, digest), `Config ${digest} of ${this.description}`);
  }

  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void> {
    // Streamed registry -> cache file -> layout, the digest checked on each leg.
    const download = (path: string) => this.client.downloadBlob(this.repository, descriptor.digest, path, { size: descriptor.size });
    return this.cache.copyToLayout(descriptor.digest, download, layoutDir, this.description);
  }
}
