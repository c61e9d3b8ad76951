import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { Arch, DEFAULT_ARCHES, parseArchList } from '../platform';
import { RegistryTarget, parseRegistryTarget, repositoryName, validateRepository, validateTag } from '../registry/reference';
import { defaultTags, gitShaTag } from './default-tags';
import type { PushFormat } from './plan';

/** The manifest-push options as nx.json, project.json or the command line give them. */
export interface ManifestPushOptions {
  registry?: string;
  repository?: string;
  tags?: string | string[];
  gitShaTag?: boolean;
  arches?: string | string[];
  perArchTags?: boolean;
  mediaType?: PushFormat;
  annotations?: Record<string, string>;
  insecureRegistries?: string | string[];
  caFile?: string;
  mountFrom?: string | string[];
  concurrency?: number;
  verify?: boolean;
  dryRun?: boolean;
  /** A cosign.key file to sign the index and every per-arch manifest with (password: COSIGN_PASSWORD). */
  signingKey?: string;
  /** An environment variable holding the cosign.key PEM, instead of a file. */
  signingKeyEnv?: string;
  /** Push each image's SBOM and provenance as signed cosign attestations (default true when signing). */
  attest?: boolean;
  /** Also put BuildKit-style attestation manifests (SBOM, provenance) into the index. */
  attestationManifests?: boolean;
  /** After pushing, verify signatures and attestations with this public key (cosign.pub). */
  verifyKey?: string;
  /** The git revision the provenance must name when verifying (default NX_MULTIARCH_REVISION). */
  expectedRevision?: string;
}

/** Options after defaults and validation. */
export interface ResolvedPushOptions {
  target: RegistryTarget;
  repository: string;
  tags: string[];
  arches: Arch[];
  perArchTags: boolean;
  format: PushFormat;
  annotations: Record<string, string>;
  insecureRegistries: string[];
  caFile?: string;
  mountFrom: string[];
  concurrency: number;
  verify: boolean;
  dryRun: boolean;
  signing?: { file?: string; envVar?: string };
  attest: boolean;
  attestationManifests: boolean;
  verifyKey?: string;
  expectedRevision?: string;
}

/** The registry (and optional prefix) when --registry is not given. */
export const ENV_REGISTRY = 'NX_MULTIARCH_REGISTRY';

/** Blob uploads at once when the options name none (the schema's default says the same). */
export const DEFAULT_PUSH_CONCURRENCY = 4;

export interface ProjectInfo {
  workspaceRoot: string;
  name: string;
  /** Relative to the workspace root. */
  root: string;
}

/** A comma list from the command line, or an array from JSON. */
function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return (typeof value === 'string' ? value.split(',') : [...value]).map((s) => String(s).trim()).filter(Boolean);
}

export async function resolvePushOptions(options: ManifestPushOptions, project: ProjectInfo, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedPushOptions> {
  const registry = options.registry ?? env[ENV_REGISTRY];
  if (!registry || registry.trim() === '') {
    throw new MultiarchError(
      `No registry to push ${project.name} to.`,
      `Pass --registry=host[:port][/prefix] (e.g. --registry=127.0.0.1:5000/linkerd) or set ${ENV_REGISTRY}.`,
    );
  }
  const target = parseRegistryTarget(registry);

  const name = options.repository ?? project.name;
  let repository: string;
  try {
    repository = repositoryName(target, validateRepository(name));
  } catch (error) {
    throw new MultiarchError(
      `${(error as Error).message}${options.repository ? '' : ` (the default repository is the project name, "${project.name}")`}`,
      options.repository ? (error as MultiarchError).hint : 'Set the repository option to a valid image name, e.g. "repository": "linkerd/proxy".',
    );
  }

  const tags = list(options.tags);
  if (tags.length === 0) tags.push(...(await defaultTags(join(project.workspaceRoot, project.root))));
  if (options.gitShaTag) tags.push(await gitShaTag(project.workspaceRoot));
  tags.forEach(validateTag);

  const format = options.mediaType ?? 'oci';
  if (format !== 'oci' && format !== 'docker') {
    throw new MultiarchError(`Unknown mediaType "${String(format)}".`, 'Use "oci" (an OCI image index, the default) or "docker" (a Docker manifest list).');
  }
  const annotations = options.annotations ?? {};
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value !== 'string') {
      throw new MultiarchError(`Annotation "${key}" must be a string.`, 'Annotations map names to string values, e.g. {"org.opencontainers.image.source": "https://…"}.');
    }
  }
  const concurrency = options.concurrency ?? DEFAULT_PUSH_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new MultiarchError(`concurrency must be a whole number from 1 to 32, not ${concurrency}.`, `Leave it at the default of ${DEFAULT_PUSH_CONCURRENCY}.`);
  }
  return {
    target,
    repository,
    tags: [...new Set(tags)],
    arches: options.arches === undefined ? [...DEFAULT_ARCHES] : parseArchList(list(options.arches)),
    perArchTags: options.perArchTags ?? false,
    format,
    annotations,
    insecureRegistries: list(options.insecureRegistries),
    caFile: options.caFile,
    mountFrom: list(options.mountFrom).map((r) => repositoryName(target, r)),
    concurrency,
    verify: options.verify ?? true,
    dryRun: options.dryRun ?? false,
    ...(options.signingKey || options.signingKeyEnv ? { signing: { file: options.signingKey, envVar: options.signingKeyEnv } } : {}),
    attest: options.attest ?? true,
    attestationManifests: options.attestationManifests ?? false,
    ...(options.verifyKey ? { verifyKey: options.verifyKey } : {}),
    ...((options.expectedRevision ?? env.NX_MULTIARCH_REVISION) ? { expectedRevision: options.expectedRevision ?? env.NX_MULTIARCH_REVISION } : {}),
  };
}
