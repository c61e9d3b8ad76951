import type { CargoLockPackage } from './cargo-lock';
import type { DpkgPackage } from './dpkg-status';
import type { GoBinaryInfo } from './go-modules';
import type { SpdxDocument, SpdxPackage, SpdxRelationship } from './spdx-types';

/**
 * An SPDX 2.3 document for one (project, arch) image, made only from facts
 * the build has: the Go module lists read from the binaries, the Cargo.lock
 * files of the Rust projects staged in, the base image by digest and the
 * base's dpkg database. Deterministic: `created` is SOURCE_DATE_EPOCH and
 * the namespace is derived from the image manifest digest, so the same
 * image always gets the same bytes.
 */
export interface SbomInput {
  project: string;
  arch: string;
  /** OCI platform string, e.g. linux/arm64/v8. */
  platform: string;
  manifestDigest: string;
  sourceDateEpoch: number;
  toolVersion: string;
  base?: { name?: string; digest: string };
  goBinaries: GoBinaryInfo[];
  cargoLocks: { path: string; packages: CargoLockPackage[] }[];
  dpkg: DpkgPackage[];
}

const NOASSERTION = 'NOASSERTION';
const NAMESPACE_PREFIX = 'urn:nx-multiarch:spdx';

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

function rfc3339(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** purl components need %-encoding of everything but unreserved characters and `/` in namespaces. */
function purlPart(text: string): string {
  return encodeURIComponent(text).replace(/%2F/g, '/');
}

class PackageSet {
  readonly packages: SpdxPackage[] = [];
  readonly relationships: SpdxRelationship[] = [];
  private readonly byPurl = new Map<string, string>();
  private readonly ids = new Set<string>();

  /** Adds a package once per purl; returns its SPDXID. */
  add(purl: string, make: (id: string) => Omit<SpdxPackage, 'SPDXID'>): string {
    const known = this.byPurl.get(purl);
    if (known) return known;
    const base = `SPDXRef-Package-${purl.replace(/^pkg:/, '').replace(/[^A-Za-z0-9.-]+/g, '-')}`;
    let id = base;
    for (let n = 2; this.ids.has(id); n++) id = `${base}-${n}`;
    this.ids.add(id);
    this.byPurl.set(purl, id);
    this.packages.push({ SPDXID: id, ...make(id) });
    return id;
  }

  relate(from: string, type: SpdxRelationship['relationshipType'], to: string): void {
    if (!this.relationships.some((r) => r.spdxElementId === from && r.relationshipType === type && r.relatedSpdxElement === to)) {
      this.relationships.push({ spdxElementId: from, relationshipType: type, relatedSpdxElement: to });
    }
  }
}

function plainPackage(name: string, version: string | undefined, purl: string, extra: Partial<SpdxPackage> = {}): Omit<SpdxPackage, 'SPDXID'> {
  return {
    name,
    ...(version ? { versionInfo: version } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }],
    ...extra,
  };
}

export function buildSbom(input: SbomInput): SpdxDocument {
  const set = new PackageSet();
  const imageName = `${input.project}`;
  const imagePurl = `pkg:oci/${purlPart(imageName)}@${encodeURIComponent(input.manifestDigest)}?arch=${encodeURIComponent(input.arch)}`;
  const imageId = set.add(imagePurl, () =>
    plainPackage(imageName, input.manifestDigest, imagePurl, {
      primaryPackagePurpose: 'CONTAINER',
      checksums: [{ algorithm: 'SHA256', checksumValue: hexOf(input.manifestDigest) }],
      comment: `Image manifest for ${input.platform}`,
    }),
  );

  if (input.base) {
    const baseName = input.base.name ?? 'base-image';
    const basePurl = `pkg:oci/${purlPart(baseName.split('/').pop() ?? baseName)}@${encodeURIComponent(input.base.digest)}${input.base.name ? `?repository_url=${encodeURIComponent(input.base.name)}` : ''}`;
    const baseId = set.add(basePurl, () =>
      plainPackage(baseName, input.base?.digest, basePurl, {
        primaryPackagePurpose: 'CONTAINER',
        checksums: [{ algorithm: 'SHA256', checksumValue: hexOf(input.base?.digest ?? '') }],
        comment: 'Base image (FROM), by digest',
      }),
    );
    set.relate(imageId, 'DESCENDANT_OF', baseId);
    for (const deb of input.dpkg) {
      const purl = `pkg:deb/debian/${purlPart(deb.name)}@${encodeURIComponent(deb.version)}${deb.architecture ? `?arch=${encodeURIComponent(deb.architecture)}` : ''}`;
      set.relate(baseId, 'CONTAINS', set.add(purl, () => plainPackage(deb.name, deb.version, purl)));
    }
  } else {
    for (const deb of input.dpkg) {
      const purl = `pkg:deb/debian/${purlPart(deb.name)}@${encodeURIComponent(deb.version)}`;
      set.relate(imageId, 'CONTAINS', set.add(purl, () => plainPackage(deb.name, deb.version, purl)));
    }
  }

  for (const binary of input.goBinaries) {
    const main = binary.main ?? { path: binary.mainPath ?? binary.file, version: '(devel)' };
    const mainPurl = `pkg:golang/${purlPart(main.path)}@${encodeURIComponent(main.version)}#/${binary.file}`;
    const appId = set.add(mainPurl, () =>
      plainPackage(main.path, main.version, mainPurl, { primaryPackagePurpose: 'APPLICATION', comment: `Go binary /${binary.file}, built with ${binary.goVersion}` }),
    );
    set.relate(imageId, 'CONTAINS', appId);
    const stdPurl = `pkg:golang/stdlib@${encodeURIComponent(binary.goVersion)}`;
    set.relate(appId, 'DEPENDS_ON', set.add(stdPurl, () => plainPackage('stdlib', binary.goVersion, stdPurl, { primaryPackagePurpose: 'LIBRARY' })));
    for (const dep of binary.deps) {
      const purl = `pkg:golang/${purlPart(dep.path)}@${encodeURIComponent(dep.version)}`;
      const id = set.add(purl, () => plainPackage(dep.path, dep.version, purl, { primaryPackagePurpose: 'LIBRARY', ...(dep.sum ? { comment: `go.sum ${dep.sum}` } : {}) }));
      set.relate(appId, 'DEPENDS_ON', id);
    }
  }

  for (const lock of input.cargoLocks) {
    for (const crate of lock.packages) {
      const purl = `pkg:cargo/${purlPart(crate.name)}@${encodeURIComponent(crate.version)}`;
      const id = set.add(purl, () =>
        plainPackage(crate.name, crate.version, purl, {
          primaryPackagePurpose: crate.source ? 'LIBRARY' : 'APPLICATION',
          ...(crate.checksum ? { checksums: [{ algorithm: 'SHA256' as const, checksumValue: crate.checksum }] } : {}),
          ...(crate.source ? {} : { comment: `Workspace crate from ${lock.path}` }),
        }),
      );
      set.relate(imageId, 'CONTAINS', id);
    }
  }

  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${input.project}-${input.arch}`,
    documentNamespace: `${NAMESPACE_PREFIX}:${encodeURIComponent(input.project)}:${encodeURIComponent(input.arch)}:sha256:${hexOf(input.manifestDigest)}`,
    creationInfo: { created: rfc3339(input.sourceDateEpoch), creators: [`Tool: nx-multiarch-${input.toolVersion}`] },
    documentDescribes: [imageId],
    packages: set.packages,
    relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId }, ...set.relationships],
  };
}

/** Packages the SBOM lists besides the image itself. */
export function sbomPackageCount(doc: SpdxDocument): number {
  return doc.packages.length - doc.documentDescribes.length;
}
