import { sha256Digest } from '../oci/digest';
import type { Descriptor, Digest } from '../oci/types';

/**
 * The documents cosign stores next to an image, built byte for byte as
 * cosign reads them:
 *  - the simple signing payload that `cosign verify` checks;
 *  - DSSE envelopes of in-toto statements that `cosign verify-attestation` checks;
 *  - the image manifest that carries them as layers, at tag `sha256-<hex>.sig`
 *    or `.att`, with an OCI 1.1 `subject` so referrers readers find it too.
 */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export type CosignSuffix = 'sig' | 'att';

/** cosign's tag for the signatures (.sig) or attestations (.att) of a digest. */
export function cosignTag(digest: Digest, suffix: CosignSuffix): string {
  return `${digest.replace(':', '-')}.${suffix}`;
}

/** The payload `cosign sign` signs; the key order and `"optional":null` are cosign's. */
export function simpleSigningPayload(dockerReference: string, digest: Digest): Buffer {
  return Buffer.from(
    `{"critical":{"identity":{"docker-reference":${JSON.stringify(dockerReference)}},"image":{"docker-manifest-digest":${JSON.stringify(digest)}},"type":"cosign container image signature"},"optional":null}`,
  );
}

/** DSSE pre-authentication encoding: what a DSSE signature covers. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export function dsseEnvelope(payload: Buffer, signature: Buffer): Buffer {
  const envelope: DsseEnvelope = { payloadType: INTOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: signature.toString('base64') }] };
  return Buffer.from(JSON.stringify(envelope));
}

export function parseDsseEnvelope(body: Buffer): DsseEnvelope | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as DsseEnvelope;
    return typeof value.payload === 'string' && Array.isArray(value.signatures) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface CosignLayer {
  descriptor: Descriptor;
  body: Buffer;
}

export function cosignLayer(mediaType: string, body: Buffer, annotations: Record<string, string>): CosignLayer {
  return { descriptor: { mediaType, size: body.length, digest: sha256Digest(body), annotations }, body };
}

export interface CosignManifest {
  config: { descriptor: Descriptor; body: Buffer };
  body: Buffer;
  digest: Digest;
}

/**
 * The manifest holding signature or attestation layers. Its config is the
 * empty-ish image config cosign writes (zero time, diff_ids = layer digests),
 * so the manifest is deterministic given its layers.
 */
export function cosignManifest(layers: readonly Descriptor[], subject: Descriptor): CosignManifest {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      config: {},
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const configDescriptor: Descriptor = { mediaType: OCI_CONFIG, size: config.length, digest: sha256Digest(config) };
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configDescriptor,
    layers,
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
  };
  const body = Buffer.from(JSON.stringify(manifest));
  return { config: { descriptor: configDescriptor, body: config }, body, digest: sha256Digest(body) };
}
