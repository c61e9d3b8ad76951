/**
 * in-toto Statement v1 and the SLSA Provenance v1 predicate, as far as
 * nx-multiarch fills them (https://slsa.dev/spec/v1.0/provenance field names).
 */
export const INTOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
/** The predicate type cosign gives `--type cyclonedx` attestations. */
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';

export interface InTotoSubject {
  name: string;
  digest: Record<string, string>;
}

export interface InTotoStatement<P> {
  _type: typeof INTOTO_STATEMENT_V1;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: P;
}

export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  };
}
