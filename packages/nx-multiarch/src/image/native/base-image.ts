import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { MultiarchError } from '../../errors';
import { BlobCache } from '../../oci/blob-store';
import { isDigest } from '../../oci/digest';
import { ConfigPlatformMismatchError, LayoutImageSource, PlatformNotFoundError, selectImage, type ImageSource, type SelectedImage } from '../../oci/image-source';
import { layerTypeIn } from '../../oci/media-types';
import { Annotations, type Descriptor, type Digest, type ImageConfig, type ImageIndex } from '../../oci/types';
import { platformString, type PlatformSpec } from '../../platform/platforms';
import { parseReference, RegistryClient, RegistryImageSource, type ImageReference } from '../../registry';

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
      'Set registryMirrors { "docker.io": ["<mirror host>"] } or map the image in baseImages (docker-arch-build or plugin options); or name the registry (FROM 127.0.0.1:5000/base:tag), use FROM oci-layout://<path> for a layout in the workspace, or FROM scratch.',
    );
  }
  return { kind: 'registry', reference: parseReference(image) };
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

/** The selection errors of oci/image-source, in the words of a FROM line. */
function asBaseError(error: unknown, description: string, target: PlatformSpec): unknown {
  const want = platformString(target.oci);
  const hint = `Build or push the base for ${target.arch} too (a multi-arch base), or choose a base that has it.`;
  if (error instanceof PlatformNotFoundError) {
    return new MultiarchError(`${description} has no image for ${want}; it has ${error.available.length ? error.available.join(', ') : 'no platforms listed'}.`, hint);
  }
  if (error instanceof ConfigPlatformMismatchError) return new MultiarchError(`${description} has no image for ${want}; it has ${error.said}.`, hint);
  return error;
}

async function select(source: ImageSource, start: Descriptor | readonly Descriptor[], target: PlatformSpec): Promise<SelectedImage> {
  try {
    return await selectImage(source, start, target.oci);
  } catch (error) {
    throw asBaseError(error, source.description, target);
  }
}

function parseIndex(data: Buffer, what: string): ImageIndex {
  try {
    return JSON.parse(data.toString('utf8')) as ImageIndex;
  } catch {
    throw new MultiarchError(`${what} is not valid JSON.`, 'The base image is corrupted; rebuild or fetch it again.');
  }
}

function toResolved(image: string, selected: SelectedImage, source: ImageSource, annotations: Record<string, string>, release: () => void = () => undefined): ResolvedBase {
  const layers = selected.manifest.layers.map((layer) => {
    const mediaType = layerTypeIn(layer.mediaType, 'oci');
    if (!mediaType) {
      throw new MultiarchError(
        `${source.description} has a layer of type ${layer.mediaType}, which the native engine does not copy.`,
        'Use a base with ordinary tar or tar+gzip layers, or engine "docker".',
      );
    }
    return { mediaType, digest: layer.digest, size: layer.size };
  });
  const diffIds = selected.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new MultiarchError(
      `${source.description}: its config lists ${diffIds.length} layer diff ids but its manifest ${layers.length} layers.`,
      'The base image is malformed; rebuild it.',
    );
  }
  return {
    description: image,
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
  const source = new LayoutImageSource(dir, `Base image ${image}`);
  let index: ImageIndex;
  try {
    index = parseIndex(await readFile(join(dir, 'index.json')), `index.json of ${image}`);
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
    return toResolved(image, await select(source, descriptor, options.target), source, {});
  }
  return toResolved(image, await select(source, entries, options.target), source, {});
}

async function resolveRegistry(ref: ImageReference, image: string, options: ResolveBaseOptions): Promise<ResolvedBase> {
  const client = new RegistryClient({ registry: ref.registry, insecureRegistries: options.insecureRegistries });
  try {
    const source = new RegistryImageSource(client, ref.repository, new BlobCache(options.blobCacheDir), `Base image ${image}`);
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
    const selected = await select(cached, descriptor, options.target);
    // base.name is the reference without a digest; with a tag it says which tag was resolved.
    const name = `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}`;
    return toResolved(image, selected, cached, { 'org.opencontainers.image.base.name': name }, () => client.close());
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
