import { OCI_IMAGE_SPEC_PIN, ociSchemaDir, expectValidOci } from '../support/oci-schemas';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The schemas come from the pinned image-spec Go module, and they do reject a broken document. */
describe('OCI schemas from the image-spec Go module', () => {
  it('reads them from the module cache at the version go.mod pins', () => {
    const version = /require github\.com\/opencontainers\/image-spec (v\S+)/.exec(readFileSync(join(OCI_IMAGE_SPEC_PIN, 'go.mod'), 'utf8'))?.[1];
    expect(version).toMatch(/^v1\./);
    expect(ociSchemaDir().endsWith(join(`image-spec@${version}`, 'schema'))).toBe(true);
  });

  it('accepts a minimal manifest and refuses one without a config', () => {
    const descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 };
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'b'.repeat(64)}`, size: 32 };
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: descriptor, layers: [layer] };
    expect(() => expectValidOci('manifest', manifest)).not.toThrow();
    const { config: _config, ...withoutConfig } = manifest;
    expect(() => expectValidOci('manifest', withoutConfig)).toThrow(/does not validate against image-manifest-schema.json/);
  });
});
