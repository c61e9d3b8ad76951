import { createHash } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import type { SpdxDocument, SpdxPackage } from './spdx-types';

/**
 * The CycloneDX 1.6 JSON form of an image's SBOM, made with the CycloneDX
 * project's own library (its models and serializer, not JSON written by
 * hand) from the same facts as the SPDX document: every SPDX package is a
 * component, the image is metadata.component, and CONTAINS / DEPENDS_ON /
 * DESCENDANT_OF become the dependency graph.
 *
 * Deterministic: the timestamp is the SPDX document's `created`
 * (SOURCE_DATE_EPOCH), bom-refs are the SPDX ids, lists are sorted by the
 * serializer, and the serial number is a name-based UUID (v5) of the BOM's
 * own content, so the same image always gets the same bytes.
 */
export const CYCLONEDX_SPEC = Spec.Spec1dot6;

const COMPONENT_TYPE: Record<NonNullable<SpdxPackage['primaryPackagePurpose']>, Enums.ComponentType> = {
  CONTAINER: Enums.ComponentType.Container,
  APPLICATION: Enums.ComponentType.Application,
  LIBRARY: Enums.ComponentType.Library,
  'OPERATING-SYSTEM': Enums.ComponentType.OperatingSystem,
  SOURCE: Enums.ComponentType.Library,
};

const HASH_ALGORITHM: Record<string, Enums.HashAlgorithm> = {
  SHA1: Enums.HashAlgorithm['SHA-1'],
  SHA256: Enums.HashAlgorithm['SHA-256'],
  SHA512: Enums.HashAlgorithm['SHA-512'],
};

/** nx-multiarch's own fixed namespace for the v5 serial numbers (any constant works; it must never change). */
const SERIAL_NAMESPACE = Buffer.from('4f2e0c6a9d8b5e7f8a1b2c3d4e5f6071', 'hex');

/** RFC 9562 UUID version 5: SHA-1 of namespace + name, version and variant bits set. */
function uuidV5(namespace: Buffer, name: string): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toComponent(pkg: SpdxPackage): Models.Component {
  const purl = pkg.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
  const component = new Models.Component(COMPONENT_TYPE[pkg.primaryPackagePurpose ?? 'LIBRARY'], pkg.name, {
    bomRef: pkg.SPDXID,
    ...(pkg.versionInfo ? { version: pkg.versionInfo } : {}),
    ...(purl ? { purl } : {}),
    ...(pkg.comment ? { description: pkg.comment } : {}),
  });
  for (const checksum of pkg.checksums ?? []) {
    const algorithm = HASH_ALGORITHM[checksum.algorithm];
    if (algorithm) component.hashes.set(algorithm, checksum.checksumValue);
  }
  return component;
}

function serialize(bom: Models.Bom): string {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(CYCLONEDX_SPEC));
  return serializer.serialize(bom, { sortLists: true });
}

export function cycloneDxFromSpdx(doc: SpdxDocument, toolVersion: string): { bytes: string; components: number } {
  const components = new Map(doc.packages.map((p) => [p.SPDXID, toComponent(p)]));
  const describedId = doc.documentDescribes[0];
  const image = components.get(describedId);
  if (!image) throw new Error(`SPDX document ${doc.name} describes ${describedId}, which it does not list`);
  for (const rel of doc.relationships) {
    if (rel.relationshipType === 'DESCRIBES') continue;
    const from = components.get(rel.spdxElementId);
    const to = components.get(rel.relatedSpdxElement);
    if (from && to) from.dependencies.add(to.bomRef);
  }
  const bom = new Models.Bom();
  bom.metadata.timestamp = new Date(doc.creationInfo.created);
  bom.metadata.component = image;
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'nx-multiarch', { version: toolVersion, bomRef: 'nx-multiarch' }));
  for (const [id, component] of components) if (id !== describedId) bom.components.add(component);
  // The serial number names the content: computed over the BOM without it.
  bom.serialNumber = `urn:uuid:${uuidV5(SERIAL_NAMESPACE, serialize(bom))}`;
  return { bytes: `${serialize(bom)}\n`, components: components.size - 1 };
}
