import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../oci/canonical-json';
import type { Digest } from '../oci/types';
import { CYCLONEDX_FILE, PROVENANCE_FILE, SBOM_FILE } from './attest-image';
import { CYCLONEDX_PREDICATE, INTOTO_STATEMENT_V1, SLSA_PROVENANCE_V1, SPDX_PREDICATE, type InTotoStatement, type InTotoSubject, type SlsaProvenanceV1 } from './intoto-types';
import type { SpdxDocument } from './spdx-types';

/**
 * The in-toto statements pushed for one per-arch image: its cached
 * provenance and its SBOMs (SPDX as cosign's `spdxjson` predicate, CycloneDX
 * as its `cyclonedx` one, whichever the build wrote). The
 * subject is set to the manifest as pushed (a Docker-format push rewrites
 * the manifest, so its digest differs from the build's) and named by the
 * repository, as cosign names it.
 */
/** What this code reads of a CycloneDX BOM (the rest is passed through as written). */
export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: string;
  components?: unknown[];
  [key: string]: unknown;
}

export interface PushStatement {
  predicateType: string;
  payload: Buffer;
}

async function readOptionalJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export async function statementsFor(imageDir: string, name: string, digest: Digest): Promise<PushStatement[]> {
  const subject: InTotoSubject[] = [{ name, digest: { sha256: digest.replace(/^sha256:/, '') } }];
  const out: PushStatement[] = [];
  const provenance = await readOptionalJson<InTotoStatement<SlsaProvenanceV1>>(join(imageDir, PROVENANCE_FILE));
  if (provenance) out.push({ predicateType: SLSA_PROVENANCE_V1, payload: Buffer.from(canonicalJson({ ...provenance, subject })) });
  const sbom = await readOptionalJson<SpdxDocument>(join(imageDir, SBOM_FILE));
  if (sbom) {
    const statement: InTotoStatement<SpdxDocument> = { _type: INTOTO_STATEMENT_V1, subject, predicateType: SPDX_PREDICATE, predicate: sbom };
    out.push({ predicateType: SPDX_PREDICATE, payload: Buffer.from(canonicalJson(statement)) });
  }
  const cyclonedx = await readOptionalJson<CycloneDxBom>(join(imageDir, CYCLONEDX_FILE));
  if (cyclonedx) {
    const statement: InTotoStatement<CycloneDxBom> = { _type: INTOTO_STATEMENT_V1, subject, predicateType: CYCLONEDX_PREDICATE, predicate: cyclonedx };
    out.push({ predicateType: CYCLONEDX_PREDICATE, payload: Buffer.from(canonicalJson(statement)) });
  }
  return out;
}
