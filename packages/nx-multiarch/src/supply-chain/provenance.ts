import { INTOTO_STATEMENT_V1, SLSA_PROVENANCE_V1, type InTotoStatement, type ResourceDescriptor, type SlsaProvenanceV1 } from './intoto-types';

/**
 * SLSA Provenance v1 for one (project, arch) image, as an in-toto statement
 * whose subject is the image manifest. Everything in it comes from options,
 * hashed workspace files, the image's own bytes and environment variables
 * Nx hashes or sets (NX_MULTIARCH_REVISION, NX_TASK_HASH): no clock, no
 * host name, no checkout path, so a cache hit restores the same bytes a
 * rebuild would write.
 */
export const BUILD_TYPE = 'urn:nx-multiarch:buildtype:docker-arch-build:v1';
export const DEFAULT_BUILDER_ID = 'urn:nx-multiarch:builder:local';

export interface ProvenanceInput {
  project: string;
  target: string;
  arch: string;
  platform: string;
  /** Workspace-relative paths. */
  dockerfile: string;
  context: string;
  manifestDigest: string;
  builderId: string;
  toolVersion: string;
  revision?: string;
  /** Repository URL (org.opencontainers.image.source), when known. */
  source?: string;
  /** Nx's hash of this task (NX_TASK_HASH), when run by Nx. */
  nxTaskHash?: string;
  base?: { name?: string; digest: string };
  /** Workspace-relative lockfile path -> sha256 hex. */
  lockfiles: { path: string; sha256: string }[];
  /** e.g. { go: ['go1.26.0'], rustc: ['1.63.0 (…)'] } read from the binaries. */
  toolchains: Record<string, string[]>;
  buildArgs: Record<string, string>;
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export function buildProvenance(input: ProvenanceInput): InTotoStatement<SlsaProvenanceV1> {
  const deps: ResourceDescriptor[] = [];
  if (input.revision) {
    // gitCommit is the in-toto DigestSet name for a git commit id.
    deps.push({ ...(input.source ? { uri: `git+${input.source}` } : { name: 'source' }), digest: { gitCommit: input.revision } });
  }
  for (const lock of [...input.lockfiles].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    deps.push({ name: lock.path, digest: { sha256: lock.sha256 } });
  }
  if (input.base) {
    deps.push({ ...(input.base.name ? { uri: `pkg:docker/${input.base.name}` } : { name: 'base-image' }), digest: { sha256: hexOf(input.base.digest) }, annotations: { role: 'base-image' } });
  }
  for (const tool of Object.keys(input.toolchains).sort()) {
    for (const version of [...new Set(input.toolchains[tool])].sort()) deps.push({ name: `toolchain:${tool}`, annotations: { version } });
  }
  return {
    _type: INTOTO_STATEMENT_V1,
    subject: [{ name: input.project, digest: { sha256: hexOf(input.manifestDigest) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          project: input.project,
          target: input.target,
          arch: input.arch,
          platform: input.platform,
          dockerfile: input.dockerfile,
          context: input.context,
          ...(Object.keys(input.buildArgs).length > 0 ? { buildArgs: input.buildArgs } : {}),
        },
        internalParameters: { ...(input.nxTaskHash ? { nxTaskHash: input.nxTaskHash } : {}), nxMultiarchVersion: input.toolVersion },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: input.builderId },
        ...(input.nxTaskHash ? { metadata: { invocationId: `nx-task:${input.nxTaskHash}` } } : {}),
      },
    },
  };
}

/** The git revision a provenance statement names, if any. */
export function provenanceRevision(statement: InTotoStatement<SlsaProvenanceV1>): string | undefined {
  return statement.predicate.buildDefinition.resolvedDependencies.find((d) => d.digest?.gitCommit)?.digest?.gitCommit;
}
