/**
 * Types of the OCI image-spec documents (v1.1) and the Docker schema 2
 * equivalents a registry may hand back. Field names follow the specs exactly.
 */
import type { OciPlatform } from '../platform/platforms';

export const MediaTypes = {
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type ManifestMediaType =
  | typeof MediaTypes.ociManifest
  | typeof MediaTypes.ociIndex
  | typeof MediaTypes.dockerManifest
  | typeof MediaTypes.dockerManifestList;

/** Every manifest type a client should list in `Accept`. */
export const MANIFEST_MEDIA_TYPES: readonly ManifestMediaType[] = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
];

/** `sha256:<64 hex>` */
export type Digest = `sha256:${string}`;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MediaTypes.ociManifest | typeof MediaTypes.dockerManifest;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof MediaTypes.ociIndex | typeof MediaTypes.dockerManifestList;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HealthCheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
}

export interface ImageConfigBody {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthCheck;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ImageConfigBody;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

/** The `oci-layout` file at the root of an image layout. */
export interface OciLayoutFile {
  imageLayoutVersion: '1.0.0';
}

/** Annotation keys of the spec that tools agree on. */
export const Annotations = {
  refName: 'org.opencontainers.image.ref.name',
  created: 'org.opencontainers.image.created',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  version: 'org.opencontainers.image.version',
  title: 'org.opencontainers.image.title',
} as const;

export function toPlatform(platform: OciPlatform): Platform {
  return platform.variant
    ? { architecture: platform.architecture, os: platform.os, variant: platform.variant }
    : { architecture: platform.architecture, os: platform.os };
}
