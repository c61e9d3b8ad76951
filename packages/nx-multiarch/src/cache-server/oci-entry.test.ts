import { sha256Digest } from '../oci/digest';
import { MediaTypes } from '../oci/types';
import type { CacheKey } from './cache-key';
import { CACHE_ARTIFACT_TYPE, CACHE_ENTRY_MEDIA_TYPE, EMPTY_CONFIG, EMPTY_CONFIG_BYTES, entryManifest, readEntryManifest, refusedManifest } from './oci-entry';

const key = '12170264597209000951' as CacheKey;
const blob = { digest: sha256Digest('entry bytes'), size: 11 };

describe('cache entries as OCI artifacts', () => {
  it('describes the empty config correctly (digest and data of "{}")', () => {
    expect(sha256Digest(EMPTY_CONFIG_BYTES)).toBe(EMPTY_CONFIG.digest);
    expect(Buffer.from(EMPTY_CONFIG.data ?? '', 'base64')).toEqual(EMPTY_CONFIG_BYTES);
    expect(EMPTY_CONFIG.size).toBe(EMPTY_CONFIG_BYTES.length);
  });

  it('writes one manifest per entry, byte for byte the same each time, and reads it back', () => {
    const bytes = entryManifest(key, blob);
    expect(entryManifest(key, blob).equals(bytes)).toBe(true);
    const manifest = JSON.parse(bytes.toString('utf8'));
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType: CACHE_ARTIFACT_TYPE,
      config: { mediaType: MediaTypes.ociEmpty },
      layers: [{ mediaType: CACHE_ENTRY_MEDIA_TYPE, digest: blob.digest, size: 11 }],
    });
    expect(readEntryManifest(key, bytes)).toEqual({ kind: 'entry', blob });
  });

  it('records when the entry was stored, and reads it back as the entry\'s age', () => {
    const bytes = entryManifest(key, blob, '2026-01-02T03:04:05.678Z');
    expect(JSON.parse(bytes.toString('utf8')).annotations['org.opencontainers.image.created']).toBe('2026-01-02T03:04:05.678Z');
    expect(readEntryManifest(key, bytes)).toEqual({ kind: 'entry', blob, createdMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678) });
  });

  it('reads a refused marker as "no entry"', () => {
    expect(readEntryManifest(key, refusedManifest(key, sha256Digest('x'), 'bad blob'))).toEqual({ kind: 'refused' });
  });

  it('does not take a manifest of another hash, another artifact type or another shape as an entry', () => {
    const other = entryManifest('99' as CacheKey, blob);
    expect(readEntryManifest(key, other)).toEqual({ kind: 'invalid', reason: 'its manifest belongs to hash 99' });
    const image = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: EMPTY_CONFIG, layers: [] }));
    expect(readEntryManifest(key, image).kind).toBe('invalid');
    expect(readEntryManifest(key, Buffer.from('not json')).kind).toBe('invalid');
    const twoLayers = JSON.parse(entryManifest(key, blob).toString('utf8'));
    twoLayers.layers.push(twoLayers.layers[0]);
    expect(readEntryManifest(key, Buffer.from(JSON.stringify(twoLayers)))).toEqual({ kind: 'invalid', reason: 'its manifest does not have exactly one blob' });
  });
});
