import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { MultiarchError } from '../../errors';
import { isDigest, verifyDigest } from '../../oci/digest';
import { blobPath, OciLayoutReader } from '../../oci/layout';
import { Annotations, MediaTypes, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../../oci/types';
import type { PlatformSpec } from '../../platform/platforms';
import { parseReference, RegistryClient, type ImageReference } from '../../registry';
import { BlobCache, copyVerifiedBlob } from '../../oci/blob-store';

/**
 * FROM resolution for the native engine: `scratch`, an OCI image layout
 * folder, or an image in a registry. An index is resolved by platform
 * (variant included); every manifest, config and layer is checked against
 * its digest; registry blobs go through a content-addressed cache.
 *
 * Layout syntax: `oci-layout://<path>[:<ref name>][@sha256:<hex>]`, the path
 * relative to the build context, else to the workspace root (or absolute).
 * `<ref name>` picks the index entry with that org.opencontainers.image.ref.name;
 * a digest picks the manifest or index with that digest.
 */
export const OCI_LAYOUT_SCHEME = 'oci-layout://';

export type BaseReference =
  | { kind: 'scratch' }
  | { kind: 'oci-layout'; path: string; refName?: string; digest?: Digest }
  | { kind: 'registry'; reference: ImageReference };

export function parseBaseReference(image: string): BaseReference {
  if (image === 'scratch') return { kind: 'scratch' };
  if (image.startsWith(OCI_LAYOUT_SCHEME)) {
    let rest = image.slice(OCI_LAYOUT_SCHEME.length);
    let digest: Digest | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0 && isDigest(rest.slice(at + 1))) {
      digest = rest.slice(at + 1) as Digest;
      rest = rest.slice(0, at);
    }
    let refName: string | undefined;
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/') && colon >= 0) {
      refName = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    if (rest === '') {
      throw new MultiarchError(`FROM ${image} names no layout folder.`, 'Write FROM oci-layout://<path>[:<ref name>], the path relative to the context or the workspace.');
    }
    return { kind: 'oci-layout', path: rest, ...(refName ? { refName } : {}), ...(digest ? { digest } : {}) };
  }
  const firstComponent = image.split('/')[0];
  if (!image.includes('/') || !(/[.:]/.test(firstComponent) || firstComponent === 'localhost')) {
    throw new MultiarchError(
      `FROM ${image} names no registry host (it would be Docker Hub, which this build does not pull from).`,
      'Name the registry (FROM 127.0.0.1:5000/base:tag), use FROM oci-layout://<path> for a layout in the workspace, or FROM scratch.',
    );
  }
  return { kind: 'registry', reference: parseReference(image) };
}

/** Docker's defaults: arm means v7, arm64 means v8, others have none. */
function normalizedVariant(architecture: string, variant: string | undefined): string {
  if (variant) return variant;
  if (architecture === 'arm') return 'v7';
  if (architecture === 'arm64') return 'v8';
  return '';
}

export function platformMatches(candidate: Platform | undefined, target: PlatformSpec): boolean {
  if (!candidate) return false;
  const want = target.oci;
  return (
    candidate.os === want.os &&
    candidate.architecture === want.architecture &&
    normalizedVariant(candidate.architecture, candidate.variant) === normalizedVariant(want.architecture, want.variant)
  );
}

function describePlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

/** Layer media types the native engine can stack on, and the OCI type each is written as. */
const LAYER_TYPES: Record<string, string> = {
  [MediaTypes.ociLayerGzip]: MediaTypes.ociLayerGzip,
  [MediaTypes.ociLayerTar]: MediaTypes.ociLayerTar,
  'application/vnd.oci.image.layer.v1.tar+zstd': 'application/vnd.oci.image.layer.v1.tar+zstd',
  [MediaTypes.dockerLayerGzip]: MediaTypes.ociLayerGzip,
};

/** Where the documents and blobs of a base image come from. */
interface ImageSource {
  readonly description: string;
  /** A manifest or index by descriptor, checked against its digest. */
  fetchDocument(descriptor: Descriptor): Promise<Buffer>;
  fetchConfig(digest: Digest): Promise<Buffer>;
  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void>;
}

class LayoutSource implements ImageSource {
  private readonly reader: OciLayoutReader;
  constructor(
    readonly dir: string,
    readonly description: string,
  ) {
    this.reader = new OciLayoutReader(dir);
  }

  private async blob(digest: Digest): Promise<Buffer> {
    try {
      return await this.reader.readBlob(digest);
    } catch (error) {
      const e = error as MultiarchError;
      throw new MultiarchError(`Base image ${this.description}: ${e.message}`, e.hint);
    }
  }

  fetchDocument(descriptor: Descriptor): Promise<Buffer> {
    return this.blob(descriptor.digest);
  }

  fetchConfig(digest: Digest): Promise<Buffer> {
    return this.blob(digest);
  }

  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void> {
    return copyVerifiedBlob(blobPath(this.dir, descriptor.digest), descriptor.digest, layoutDir, `Base image ${this.description}`);
  }
}

class RegistrySource implements ImageSource {
  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly cache: BlobCache,
    readonly description: string,
  ) {}

  async fetchDocument(descriptor: Descriptor): Promise<Buffer> {
    const response = await this.client.getManifest(this.repository, descriptor.digest);
    verifyDigest(response.body, descriptor.digest, `Manifest ${descriptor.digest} of ${this.description}`);
    return response.body;
  }

  fetchConfig(digest: Digest): Promise<Buffer> {
    return this.cache.read(digest, () => this.client.getBlob(this.repository, digest), `Config ${digest} of ${this.description}`);
  }

  copyLayerTo(descriptor: Descriptor, layoutDir: string): Promise<void> {
    return this.cache.copyToLayout(
      descriptor.digest,
      () => this.client.getBlob(this.repository, descriptor.digest),
      layoutDir,
      `Base image ${this.description}`,
    );
  }
}

/** A base image resolved to one platform's manifest. */
export interface ResolvedBase {
  /** `scratch`, `oci-layout://…` or the registry reference, for messages and history. */
  description: string;
  scratch: boolean;
  manifestDigest?: Digest;
  config?: ImageConfig;
  /** The base's layers, media types in OCI spelling. */
  layers: Descriptor[];
  /** Annotations the new manifest carries about its base (base.digest, base.name for registry images). */
  annotations: Record<string, string>;
  /** Writes every base layer blob into the layout, each checked against its digest. */
  copyLayersTo(layoutDir: string): Promise<void>;
  /** Closes connections kept for copyLayersTo. */
  release(): void;
}

export interface ResolveBaseOptions {
  target: PlatformSpec;
  /** Folders a relative oci-layout path is looked up in, in order (context, then workspace). */
  searchDirs: readonly string[];
  blobCacheDir: string;
  insecureRegistries?: readonly string[];
}

const SCRATCH: ResolvedBase = {
  description: 'scratch',
  scratch: true,
  layers: [],
  annotations: {},
  copyLayersTo: async () => undefined,
  release: () => undefined,
};

async function findLayoutDir(path: string, searchDirs: readonly string[], image: string): Promise<string> {
  const candidates = isAbsolute(path) ? [path] : searchDirs.map((dir) => resolve(dir, path));
  for (const candidate of candidates) {
    if (await stat(join(candidate, 'index.json')).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new MultiarchError(
    `FROM ${image}: no OCI image layout (index.json) at ${path}, looked in ${candidates.join(' and ')}.`,
    'Build or copy the base layout there first (e.g. nx run <base project>:docker-arch-build), or fix the path: relative to the build context, else to the workspace root.',
  );
}

function parseJson<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    throw new MultiarchError(`${what} is not valid JSON.`, 'The base image is corrupted; rebuild or fetch it again.');
  }
}

/** The media type of a document: the descriptor's, else the document's own field. */
function documentType(descriptor: Descriptor, body: Buffer): string {
  if (INDEX_TYPES.has(descriptor.mediaType) || MANIFEST_TYPES.has(descriptor.mediaType)) return descriptor.mediaType;
  const own = parseJson<{ mediaType?: string; manifests?: unknown }>(body, `Document ${descriptor.digest}`);
  return own.mediaType ?? (own.manifests ? MediaTypes.ociIndex : MediaTypes.ociManifest);
}

interface Selected {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

class PlatformNotFound extends MultiarchError {
  constructor(
    readonly available: string[],
    description: string,
    target: PlatformSpec,
  ) {
    super(
      `Base image ${description} has no image for ${describePlatform(target.oci)}; it has ${available.length ? available.join(', ') : 'no platforms listed'}.`,
      `Build or push the base for ${target.arch} too (a multi-arch base), or choose a base that has it.`,
    );
  }
}

/** Walks index entries to the one manifest for the target platform. */
async function selectFrom(descriptors: readonly Descriptor[], source: ImageSource, target: PlatformSpec, seen: string[]): Promise<Selected> {
  const available: string[] = [];
  const withPlatform = descriptors.filter((d) => d.platform);
  for (const d of withPlatform) available.push(describePlatform(d.platform as Platform));
  const exact = withPlatform.find((d) => platformMatches(d.platform, target));
  const order = exact ? [exact] : descriptors.filter((d) => !d.platform);
  for (const descriptor of order) {
    try {
      return await selectDescriptor(descriptor, source, target, seen);
    } catch (error) {
      if (!(error instanceof PlatformNotFound)) throw error;
      available.push(...error.available);
    }
  }
  throw new PlatformNotFound([...new Set(available)], source.description, target);
}

async function selectDescriptor(descriptor: Descriptor, source: ImageSource, target: PlatformSpec, seen: string[]): Promise<Selected> {
  if (seen.includes(descriptor.digest) || seen.length > 8) {
    throw new MultiarchError(`Base image ${source.description}: its indexes refer to each other in a loop.`, 'The base image is malformed; rebuild it.');
  }
  const body = await source.fetchDocument(descriptor);
  const type = documentType(descriptor, body);
  if (INDEX_TYPES.has(type)) {
    const index = parseJson<ImageIndex>(body, `Index ${descriptor.digest} of ${source.description}`);
    return selectFrom(index.manifests ?? [], source, target, [...seen, descriptor.digest]);
  }
  if (!MANIFEST_TYPES.has(type)) {
    throw new MultiarchError(`Base image ${source.description}: ${descriptor.digest} is a ${type}, not an image.`, 'Point FROM at an image or an image index.');
  }
  const manifest = parseJson<ImageManifest>(body, `Manifest ${descriptor.digest} of ${source.description}`);
  const config = parseJson<ImageConfig>(await source.fetchConfig(manifest.config.digest), `Config of ${source.description}`);
  const platform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (!platformMatches(platform, target)) throw new PlatformNotFound([describePlatform(platform)], source.description, target);
  return { descriptor, manifest, config };
}

function toResolved(selected: Selected, source: ImageSource, annotations: Record<string, string>, release: () => void = () => undefined): ResolvedBase {
  const layers = selected.manifest.layers.map((layer) => {
    const mediaType = LAYER_TYPES[layer.mediaType];
    if (!mediaType) {
      throw new MultiarchError(
        `Base image ${source.description} has a layer of type ${layer.mediaType}, which the native engine does not copy.`,
        'Use a base with ordinary tar or tar+gzip layers, or engine "docker".',
      );
    }
    return { mediaType, digest: layer.digest, size: layer.size };
  });
  const diffIds = selected.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new MultiarchError(
      `Base image ${source.description}: its config lists ${diffIds.length} layer diff ids but its manifest ${layers.length} layers.`,
      'The base image is malformed; rebuild it.',
    );
  }
  return {
    description: source.description,
    scratch: false,
    manifestDigest: selected.descriptor.digest,
    config: selected.config,
    layers,
    annotations: { 'org.opencontainers.image.base.digest': selected.descriptor.digest, ...annotations },
    copyLayersTo: async (layoutDir) => {
      for (const layer of layers) await source.copyLayerTo(layer, layoutDir);
    },
    release,
  };
}

async function resolveLayout(ref: Extract<BaseReference, { kind: 'oci-layout' }>, image: string, options: ResolveBaseOptions): Promise<ResolvedBase> {
  const dir = await findLayoutDir(ref.path, options.searchDirs, image);
  const source = new LayoutSource(dir, image);
  let index: ImageIndex;
  try {
    index = parseJson<ImageIndex>(await readFile(join(dir, 'index.json')), `index.json of ${image}`);
  } catch (error) {
    throw error instanceof MultiarchError ? error : new MultiarchError(`FROM ${image}: cannot read ${join(dir, 'index.json')}.`, 'Rebuild the base layout.');
  }
  let entries = index.manifests ?? [];
  if (ref.refName !== undefined) {
    entries = entries.filter((d) => d.annotations?.[Annotations.refName] === ref.refName);
    if (entries.length === 0) {
      const names = (index.manifests ?? []).map((d) => d.annotations?.[Annotations.refName]).filter(Boolean);
      throw new MultiarchError(`FROM ${image}: the layout has no entry named ${ref.refName}; it has ${names.join(', ') || 'no named entries'}.`, 'Use one of those names, or leave the name out.');
    }
  }
  if (ref.digest !== undefined) {
    const digest = ref.digest;
    const listed = entries.find((d) => d.digest === digest);
    const descriptor: Descriptor = listed ?? { mediaType: '', digest, size: 0 };
    return toResolved(await selectDescriptor(descriptor, source, options.target, []), source, {});
  }
  return toResolved(await selectFrom(entries, source, options.target, []), source, {});
}

async function resolveRegistry(ref: ImageReference, image: string, options: ResolveBaseOptions): Promise<ResolvedBase> {
  const client = new RegistryClient({ registry: ref.registry, insecureRegistries: options.insecureRegistries });
  try {
    const source = new RegistrySource(client, ref.repository, new BlobCache(options.blobCacheDir), image);
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const top = await client.getManifest(ref.repository, reference);
    const descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.body.length };
    const body = top.body;
    // The top document is already fetched (and checked by the client): serve it from memory.
    const cached: ImageSource = {
      description: source.description,
      fetchDocument: (d) => (d.digest === top.digest ? Promise.resolve(body) : source.fetchDocument(d)),
      fetchConfig: (d) => source.fetchConfig(d),
      copyLayerTo: (d, dir) => source.copyLayerTo(d, dir),
    };
    const selected = await selectDescriptor(descriptor, cached, options.target, []);
    // base.name is the reference without a digest; with a tag it says which tag was resolved.
    const name = `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}`;
    return toResolved(selected, cached, { 'org.opencontainers.image.base.name': name }, () => client.close());
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Resolves the FROM image (after substitution) for the target platform. */
export async function resolveBase(image: string, options: ResolveBaseOptions): Promise<ResolvedBase> {
  const ref = parseBaseReference(image);
  switch (ref.kind) {
    case 'scratch':
      return SCRATCH;
    case 'oci-layout':
      return resolveLayout(ref, image, options);
    case 'registry':
      return resolveRegistry(ref.reference, image, options);
  }
}
