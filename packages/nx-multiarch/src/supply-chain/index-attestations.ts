import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import type { Descriptor, Digest } from '../oci/types';
import { OCI_CONFIG, OCI_MANIFEST } from './cosign-objects';
import type { PushStatement } from './push-statements';

/**
 * BuildKit's way of attaching attestations: an image manifest per arch,
 * inside the index, with platform unknown/unknown and annotations naming the
 * image manifest it describes; its layers are the (unsigned) in-toto
 * statements. `docker buildx imagetools inspect` and other BuildKit readers
 * find provenance and SBOM there.
 */
export const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';
export const REFERENCE_DIGEST_ANNOTATION = 'vnd.docker.reference.digest';
export const ATTESTATION_MANIFEST = 'attestation-manifest';
export const INTOTO_LAYER_MEDIA_TYPE = 'application/vnd.in-toto+json';
export const PREDICATE_TYPE_LAYER_ANNOTATION = 'in-toto.io/predicate-type';

export interface AttestationManifest {
  /** The index entry. */
  descriptor: Descriptor;
  body: Buffer;
  /** Config and statement blobs. */
  blobs: { descriptor: Descriptor; body: Buffer }[];
}

export function attestationManifest(imageDigest: Digest, statements: readonly PushStatement[]): AttestationManifest {
  const layers = statements.map((s) => ({
    descriptor: { mediaType: INTOTO_LAYER_MEDIA_TYPE, digest: sha256Digest(s.payload), size: s.payload.length, annotations: { [PREDICATE_TYPE_LAYER_ANNOTATION]: s.predicateType } },
    body: s.payload,
  }));
  const config = Buffer.from(canonicalJson({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.descriptor.digest) } }));
  const configDescriptor: Descriptor = { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length };
  const body = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: layers.map((l) => l.descriptor) }));
  return {
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest: sha256Digest(body),
      size: body.length,
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: { [REFERENCE_DIGEST_ANNOTATION]: imageDigest, [REFERENCE_TYPE_ANNOTATION]: ATTESTATION_MANIFEST },
    },
    body,
    blobs: [{ descriptor: configDescriptor, body: config }, ...layers],
  };
}

/** True for an index entry that is an attestation manifest rather than an image. */
export function isAttestationEntry(descriptor: Descriptor): boolean {
  return descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST || descriptor.platform?.os === 'unknown';
}
