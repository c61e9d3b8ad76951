import type { KeyObject } from 'node:crypto';
import type { RegistryClient } from '../registry/client';
import type { Descriptor, Digest, ImageIndex, ImageManifest } from '../oci/types';
import { cosignTag, dssePae, DSSE_MEDIA_TYPE, OCI_MANIFEST, parseDsseEnvelope, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './cosign-objects';
import { CYCLONEDX_PREDICATE, SLSA_PROVENANCE_V1, SPDX_PREDICATE, type InTotoStatement, type SlsaProvenanceV1 } from './intoto-types';
import { provenanceRevision } from './provenance';
import { verifySignature } from './signer';
import type { SpdxDocument } from './spdx-types';
import type { CycloneDxBom } from './push-statements';

/**
 * Checks an image as pushed, for the index and every per-arch manifest:
 * a cosign signature by the given key whose payload names that digest;
 * for each arch, signed provenance and SBOM attestations whose subject is
 * that manifest; and a provenance naming the expected revision.
 */
export interface VerifyRow {
  target: string;
  digest: Digest;
  signature: 'ok' | 'missing' | 'bad';
  provenance: 'ok' | 'missing' | 'bad' | 'n/a';
  revision?: string;
  sbom: 'ok' | 'missing' | 'bad' | 'n/a';
  sbomPackages?: number;
  problems: string[];
}

export interface VerifyResult {
  rows: VerifyRow[];
  ok: boolean;
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

async function cosignLayers(client: RegistryClient, repository: string, tag: string): Promise<Descriptor[] | undefined> {
  if (!(await client.hasManifest(repository, tag))) return undefined;
  const manifest = JSON.parse((await client.getManifest(repository, tag, [OCI_MANIFEST])).body.toString('utf8')) as ImageManifest;
  return manifest.layers ?? [];
}

async function checkSignature(client: RegistryClient, repository: string, digest: Digest, key: KeyObject, row: VerifyRow): Promise<void> {
  const layers = await cosignLayers(client, repository, cosignTag(digest, 'sig'));
  if (!layers) {
    row.signature = 'missing';
    row.problems.push('no signature');
    return;
  }
  for (const layer of layers.filter((l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE)) {
    const payload = await client.getBlob(repository, layer.digest);
    const signature = Buffer.from(layer.annotations?.[SIGNATURE_ANNOTATION] ?? '', 'base64');
    if (!verifySignature(key, payload, signature)) continue;
    const claimed = (JSON.parse(payload.toString('utf8')) as { critical?: { image?: { 'docker-manifest-digest'?: string } } }).critical?.image?.['docker-manifest-digest'];
    if (claimed === digest) {
      row.signature = 'ok';
      return;
    }
  }
  row.signature = 'bad';
  row.problems.push('no signature by this key names this digest');
}

async function checkAttestations(client: RegistryClient, repository: string, digest: Digest, key: KeyObject, expectedRevision: string | undefined, row: VerifyRow): Promise<void> {
  row.provenance = 'missing';
  row.sbom = 'missing';
  const layers = (await cosignLayers(client, repository, cosignTag(digest, 'att'))) ?? [];
  for (const layer of layers.filter((l) => l.mediaType === DSSE_MEDIA_TYPE)) {
    const body = await client.getBlob(repository, layer.digest);
    const envelope = parseDsseEnvelope(body);
    if (!envelope) continue;
    const payload = Buffer.from(envelope.payload, 'base64');
    const signed = envelope.signatures.some((s) => verifySignature(key, dssePae(envelope.payloadType, payload), Buffer.from(s.sig, 'base64')));
    let statement: InTotoStatement<unknown>;
    try {
      statement = JSON.parse(payload.toString('utf8')) as InTotoStatement<unknown>;
    } catch {
      row.problems.push(`attestation ${layer.digest.slice(7, 19)} is not JSON`);
      continue;
    }
    const kind = statement.predicateType === SLSA_PROVENANCE_V1 ? 'provenance' : statement.predicateType === SPDX_PREDICATE || statement.predicateType === CYCLONEDX_PREDICATE ? 'sbom' : undefined;
    if (!kind) continue;
    const subjectOk = statement.subject?.some((s) => `sha256:${s.digest?.sha256}` === digest) ?? false;
    if (!signed) {
      row[kind] = 'bad';
      row.problems.push(`${kind} attestation: signature does not verify with this key`);
      continue;
    }
    if (!subjectOk) {
      row[kind] = 'bad';
      row.problems.push(`${kind} attestation: subject is not this manifest`);
      continue;
    }
    if (kind === 'provenance') {
      const revision = provenanceRevision(statement as InTotoStatement<SlsaProvenanceV1>);
      row.revision = revision;
      if (expectedRevision && revision !== expectedRevision) {
        row.provenance = 'bad';
        row.problems.push(`provenance names revision ${revision ?? '(none)'}, expected ${expectedRevision}`);
        continue;
      }
      if ((row.provenance as VerifyRow['provenance']) !== 'bad') row.provenance = 'ok';
    } else if (statement.predicateType === CYCLONEDX_PREDICATE) {
      // With both formats the SPDX count is the one shown; they list the same packages.
      row.sbomPackages ??= (statement as InTotoStatement<CycloneDxBom>).predicate.components?.length ?? 0;
      if ((row.sbom as VerifyRow['sbom']) !== 'bad') row.sbom = 'ok';
    } else {
      const doc = (statement as InTotoStatement<SpdxDocument>).predicate;
      row.sbomPackages = (doc.packages?.length ?? 1) - (doc.documentDescribes?.length ?? 1);
      if ((row.sbom as VerifyRow['sbom']) !== 'bad') row.sbom = 'ok';
    }
  }
  if (row.provenance === 'missing') row.problems.push('no provenance attestation');
  if (row.sbom === 'missing') row.problems.push('no SBOM attestation');
}

export async function verifyImage(
  client: RegistryClient,
  repository: string,
  reference: string,
  key: KeyObject,
  options: { expectedRevision?: string; requireAttestations?: boolean } = {},
): Promise<VerifyResult> {
  const top = await client.getManifest(repository, reference, MANIFEST_ACCEPT);
  const rows: VerifyRow[] = [];
  const doc = JSON.parse(top.body.toString('utf8')) as Partial<ImageIndex>;
  const indexRow: VerifyRow = { target: 'index', digest: top.digest, signature: 'missing', provenance: 'n/a', sbom: 'n/a', problems: [] };
  const children: Descriptor[] = Array.isArray(doc.manifests) ? doc.manifests : [];
  if (children.length > 0) {
    await checkSignature(client, repository, top.digest, key, indexRow);
    rows.push(indexRow);
  }
  const images = children.length > 0 ? children.filter((d) => d.platform && d.platform.os !== 'unknown') : [{ mediaType: top.mediaType, digest: top.digest, size: top.body.length }];
  for (const child of images) {
    const platform = child.platform ? [child.platform.os, child.platform.architecture, child.platform.variant].filter(Boolean).join('/') : 'image';
    const row: VerifyRow = { target: platform, digest: child.digest, signature: 'missing', provenance: 'n/a', sbom: 'n/a', problems: [] };
    await checkSignature(client, repository, child.digest, key, row);
    if (options.requireAttestations !== false) await checkAttestations(client, repository, child.digest, key, options.expectedRevision, row);
    rows.push(row);
  }
  return { rows, ok: rows.every((r) => r.problems.length === 0) };
}

export function formatVerifyTable(result: VerifyResult): string {
  const header = ['TARGET', 'DIGEST', 'SIGNATURE', 'PROVENANCE', 'REVISION', 'SBOM', 'PROBLEMS'];
  const lines = result.rows.map((r) => [
    r.target,
    r.digest.slice(0, 19),
    r.signature,
    r.provenance,
    r.revision ? r.revision.slice(0, 12) : '-',
    r.sbom === 'ok' && r.sbomPackages !== undefined ? `ok (${r.sbomPackages} pkgs)` : r.sbom,
    r.problems.join('; ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [render(header), ...lines.map(render), result.ok ? 'verify: OK' : 'verify: FAILED'].join('\n');
}

