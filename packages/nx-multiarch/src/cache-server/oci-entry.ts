import { canonicalJson } from '../oci/canonical-json';
import { isDigest } from '../oci/digest';
import { MediaTypes, type Descriptor, type Digest, type ImageManifest } from '../oci/types';
import type { CacheKey } from './cache-key';

/**
 * A cache entry as an OCI artifact (image-spec 1.1 "artifact" guidance): one
 * blob holding the bytes Nx uploaded, described by a manifest whose config is
 * the empty descriptor and whose artifactType says what it is. The manifest
 * is tagged with the Nx hash, so `GET /v2/<repo>/manifests/<hash>` finds it.
 */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.nx-multiarch.cache.v1';
/** The blob: Nx's gzip-compressed tar of outputs, terminal output and exit code. */
export const CACHE_ENTRY_MEDIA_TYPE = 'application/vnd.nx-multiarch.cache.entry.v1.tar+gzip';
/**
 * Put under a hash whose entry failed its check: reads as "no entry", so the
 * next trusted build stores the entry again, and needs no delete permission
 * in the registry. The refused manifest stays reachable by its digest.
 */
export const REFUSED_ARTIFACT_TYPE = 'application/vnd.nx-multiarch.cache.refused.v1';
export const REFUSED_DIGEST_ANNOTATION = 'dev.nx-multiarch.cache.refused-manifest';
export const REFUSED_REASON_ANNOTATION = 'dev.nx-multiarch.cache.refused-reason';
/** Repeats the tag inside the signed-by-digest document, so a moved tag is noticed. */
export const CACHE_KEY_ANNOTATION = 'dev.nx-multiarch.cache.hash';
/**
 * When the server stored the entry (image-spec's standard "created" key, RFC 3339):
 * retention's age for entries no server has read since it started.
 */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** The two bytes `{}`: the config every artifact without a config points to. */
export const EMPTY_CONFIG_BYTES = Buffer.from('{}');
export const EMPTY_CONFIG: Descriptor = {
  mediaType: MediaTypes.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
};

export interface EntryBlob {
  digest: Digest;
  size: number;
}

/**
 * The manifest bytes for an entry: canonical JSON, so the same entry stored
 * at the same time always gives one digest. `created` (RFC 3339) is when the
 * server stored it; without it the entry is taken as the oldest by retention.
 */
export function entryManifest(key: CacheKey, blob: EntryBlob, created?: string): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    artifactType: CACHE_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: CACHE_ENTRY_MEDIA_TYPE, digest: blob.digest, size: blob.size }],
    annotations: { [CACHE_KEY_ANNOTATION]: key, ...(created !== undefined ? { [CREATED_ANNOTATION]: created } : {}) },
  };
  return Buffer.from(canonicalJson(manifest));
}

/** The marker put in place of a refused entry; its one layer is the empty descriptor, as image-spec 1.1 advises for artifacts without content. */
export function refusedManifest(key: CacheKey, refusedDigest: Digest, reason: string): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    artifactType: REFUSED_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [EMPTY_CONFIG],
    annotations: { [CACHE_KEY_ANNOTATION]: key, [REFUSED_DIGEST_ANNOTATION]: refusedDigest, [REFUSED_REASON_ANNOTATION]: reason },
  };
  return Buffer.from(canonicalJson(manifest));
}

/** What a manifest under a hash tag is: a live entry, a refused marker (reads as absent), or not ours. */
export type EntryManifestReading = { kind: 'entry'; blob: EntryBlob; createdMs?: number } | { kind: 'refused' } | { kind: 'invalid'; reason: string };

export function readEntryManifest(key: CacheKey, body: Buffer): EntryManifestReading {
  const invalid = (reason: string): EntryManifestReading => ({ kind: 'invalid', reason });
  let manifest: Partial<ImageManifest>;
  try {
    manifest = JSON.parse(body.toString('utf8')) as Partial<ImageManifest>;
  } catch {
    return invalid('its manifest is not JSON');
  }
  if (manifest.schemaVersion !== 2 || manifest.mediaType !== MediaTypes.ociManifest) return invalid('its manifest is not an OCI image manifest');
  if (manifest.artifactType === REFUSED_ARTIFACT_TYPE) return { kind: 'refused' };
  if (manifest.artifactType !== CACHE_ARTIFACT_TYPE) return invalid(`its manifest has artifactType ${String(manifest.artifactType)}, not ${CACHE_ARTIFACT_TYPE}`);
  const tagged = manifest.annotations?.[CACHE_KEY_ANNOTATION];
  if (tagged !== key) return invalid(`its manifest belongs to hash ${String(tagged)}`);
  const layers = manifest.layers;
  if (!Array.isArray(layers) || layers.length !== 1) return invalid('its manifest does not have exactly one blob');
  const [layer] = layers;
  if (layer.mediaType !== CACHE_ENTRY_MEDIA_TYPE) return invalid(`its blob has media type ${String(layer.mediaType)}`);
  if (typeof layer.digest !== 'string' || !isDigest(layer.digest)) return invalid('its blob has no sha256 digest');
  if (typeof layer.size !== 'number' || !Number.isSafeInteger(layer.size) || layer.size < 0) return invalid('its blob has no valid size');
  const created = Date.parse(manifest.annotations?.[CREATED_ANNOTATION] ?? '');
  return { kind: 'entry', blob: { digest: layer.digest, size: layer.size }, ...(Number.isFinite(created) ? { createdMs: created } : {}) };
}
