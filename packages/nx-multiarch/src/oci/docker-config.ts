import { MultiarchError } from '../errors';
import type { Digest, HealthCheck, HistoryEntry, ImageConfig, ImageConfigBody } from './types';
import { platformString, type OciPlatform, type PlatformSpec } from '../platform/platforms';
import { describePlatform, platformMatches } from './platform-match';

/**
 * The image config a docker daemon writes (Docker image spec v1.2): the OCI
 * fields plus Docker's own container settings and build bookkeeping.
 */
export interface DockerContainerConfig extends Omit<ImageConfigBody, 'Entrypoint' | 'Cmd' | 'Volumes' | 'Labels'> {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>> | null;
  Labels?: Record<string, string> | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthCheck;
  // Docker also writes Hostname, AttachStdin, Tty, Image and such; they say
  // nothing about the image and are dropped.
}

export interface DockerImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  config?: DockerContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  // also container, container_config, docker_version: build bookkeeping, dropped.
}

/**
 * The config we write: OCI fields, plus ONBUILD triggers and SHELL when the
 * Dockerfile had them (Docker-only, but a later `FROM` of this image needs them).
 */
export interface OciConfigWithDockerExtras extends ImageConfig {
  config?: ImageConfigBody & { OnBuild?: string[]; Shell?: string[] };
}

/** RFC 3339 in UTC without fractions, as Go and BuildKit write times. */
export function epochToRfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The daemon built for another platform than asked (its base lacks the asked one). */
export function wrongPlatformError(said: string, want: OciPlatform): MultiarchError {
  return new MultiarchError(
    `The docker build produced an image for ${said}, not ${platformString(want)}.`,
    `The base image probably has no ${platformString(want)} variant (the daemon then falls back to another one): use a base that has it, e.g. a multi-arch index.`,
  );
}

/**
 * Checks the daemon's os/architecture/variant against the table (the one
 * platform rule of oci/platform-match: BuildKit may leave the variant out,
 * and writes `v8` for arm64 on some versions) and returns the table's
 * spelling. A mismatch means a base image of another arch was used and every
 * binary in it is wrong.
 */
export function checkedPlatformFields(config: DockerImageConfig, platform: PlatformSpec): Pick<ImageConfig, 'architecture' | 'os' | 'variant'> {
  const want = platform.oci;
  if (!platformMatches(config, want)) throw wrongPlatformError(describePlatform(config), want);
  return want.variant ? { architecture: want.architecture, os: want.os, variant: want.variant } : { architecture: want.architecture, os: want.os };
}

function nonEmpty<T>(value: T[] | null | undefined): T[] | undefined {
  return value && value.length > 0 ? value : undefined;
}

function nonEmptyRecord<T>(value: Record<string, T> | null | undefined): Record<string, T> | undefined {
  return value && Object.keys(value).length > 0 ? value : undefined;
}

export function ociConfigBody(config: DockerContainerConfig | undefined): OciConfigWithDockerExtras['config'] {
  if (!config) return undefined;
  const body: OciConfigWithDockerExtras['config'] = {
    User: config.User || undefined,
    ExposedPorts: nonEmptyRecord(config.ExposedPorts),
    Env: nonEmpty(config.Env),
    Entrypoint: nonEmpty(config.Entrypoint),
    Cmd: nonEmpty(config.Cmd),
    Volumes: nonEmptyRecord(config.Volumes),
    WorkingDir: config.WorkingDir || undefined,
    Labels: nonEmptyRecord(config.Labels),
    StopSignal: config.StopSignal || undefined,
    Healthcheck: config.Healthcheck,
    OnBuild: nonEmpty(config.OnBuild),
    Shell: nonEmpty(config.Shell),
  };
  const defined = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
  return Object.keys(defined).length > 0 ? (defined as OciConfigWithDockerExtras['config']) : undefined;
}

/**
 * The daemon's config rewritten for a reproducible image: times set to
 * SOURCE_DATE_EPOCH (BuildKit in engine 20.10 writes the build's clock and
 * ignores the variable), diff_ids of the normalised layers, Docker-only
 * bookkeeping dropped, platform fields from the table.
 */
export function toOciConfig(config: DockerImageConfig, platform: PlatformSpec, diffIds: Digest[], sourceDateEpoch: number): OciConfigWithDockerExtras {
  const created = epochToRfc3339(sourceDateEpoch);
  const history = (config.history ?? []).map((entry) => {
    const rewritten: HistoryEntry = { created };
    if (entry.created_by) rewritten.created_by = entry.created_by;
    if (entry.author) rewritten.author = entry.author;
    if (entry.comment) rewritten.comment = entry.comment;
    if (entry.empty_layer) rewritten.empty_layer = true;
    return rewritten;
  });
  const nonEmptyHistory = history.filter((h) => !h.empty_layer).length;
  if (config.rootfs.diff_ids.length !== diffIds.length) {
    throw new MultiarchError(
      `The docker image config lists ${config.rootfs.diff_ids.length} layers but the archive holds ${diffIds.length}.`,
      'The saved image is inconsistent; remove it from the daemon and build again.',
    );
  }
  return {
    created,
    ...(config.author ? { author: config.author } : {}),
    ...checkedPlatformFields(config, platform),
    config: ociConfigBody(config.config),
    rootfs: { type: 'layers', diff_ids: diffIds },
    // History must pair with layers to be useful; keep it only when it does.
    ...(history.length > 0 && nonEmptyHistory === diffIds.length ? { history } : {}),
  };
}
