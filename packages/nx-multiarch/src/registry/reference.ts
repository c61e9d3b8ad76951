import { MultiarchError } from '../errors';
import { isDigest } from '../oci/digest';
import type { Digest } from '../oci/types';

/**
 * Image references as Docker and the Distribution spec write them:
 * `host[:port]/path/name[:tag][@sha256:<hex>]`. The registry part is required
 * here (we always push to a named registry, never to an implied Docker Hub).
 */
export interface ImageReference {
  /** `host[:port]`. */
  registry: string;
  /** `path/name`, lower case components. */
  repository: string;
  tag?: string;
  digest?: Digest;
}

/** A registry with an optional repository prefix: what `--registry` takes. */
export interface RegistryTarget {
  registry: string;
  /** Prepended to every repository name, e.g. `linkerd` in `ghcr.io/linkerd`. */
  prefix?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;
const MAX_REPOSITORY_LENGTH = 255;

const REFERENCE_HINT = 'Write host[:port]/name[:tag][@sha256:<64 hex>], e.g. 127.0.0.1:5000/linkerd/proxy:2.14.0.';

export function validateTag(tag: string): string {
  if (tag.length > 128) {
    throw new MultiarchError(
      `Tag "${tag.slice(0, 40)}…" is ${tag.length} characters long; registries accept at most 128.`,
      'Shorten the tag (letters, digits, _ . -, not starting with . or -).',
    );
  }
  if (!TAG.test(tag)) {
    throw new MultiarchError(
      `Invalid tag "${tag}".`,
      'A tag is 1 to 128 of letters, digits, "_", "." and "-", and does not start with "." or "-".',
    );
  }
  return tag;
}

export function validateRepository(name: string): string {
  if (name.length === 0) throw new MultiarchError('The repository name is empty.', 'Name the image, e.g. linkerd/proxy.');
  if (name.length > MAX_REPOSITORY_LENGTH) {
    throw new MultiarchError(`Repository name is ${name.length} characters long; at most ${MAX_REPOSITORY_LENGTH} are allowed.`, 'Use a shorter name or prefix.');
  }
  for (const component of name.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw new MultiarchError(
        `Invalid repository name "${name}": "${component}" is not a valid path component.`,
        'Use lower-case letters and digits, separated by ".", "_", "__" or "-", with "/" between path components.',
      );
    }
  }
  return name;
}

export function validateRegistryHost(host: string): string {
  if (!HOST.test(host)) {
    throw new MultiarchError(`Invalid registry host "${host}".`, 'Give host[:port], e.g. 127.0.0.1:5000 or registry.example.com.');
  }
  const port = /:(\d+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']')) : host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new MultiarchError(`Invalid port in registry host "${host}".`, 'Ports run from 1 to 65535.');
  }
  return host;
}

/** `host[:port][/prefix]`, as `--registry` and NX_MULTIARCH_REGISTRY take it. */
export function parseRegistryTarget(value: string): RegistryTarget {
  const text = value.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (!text) throw new MultiarchError('No registry given.', 'Pass --registry=host[:port][/prefix] or set NX_MULTIARCH_REGISTRY.');
  const slash = text.indexOf('/');
  const registry = validateRegistryHost(slash < 0 ? text : text.slice(0, slash));
  const prefix = slash < 0 ? undefined : text.slice(slash + 1);
  if (prefix !== undefined) {
    try {
      validateRepository(prefix);
    } catch (error) {
      throw new MultiarchError(`Invalid repository prefix in registry "${value}": ${(error as Error).message}`, (error as MultiarchError).hint);
    }
  }
  return prefix ? { registry, prefix } : { registry };
}

/** Joins a prefix and a name into a repository, validated. */
export function repositoryName(target: RegistryTarget, name: string): string {
  return validateRepository(target.prefix ? `${target.prefix}/${name}` : name);
}

export function parseReference(text: string): ImageReference {
  const input = text.trim();
  const fail = (why: string) => new MultiarchError(`Malformed image reference "${text}": ${why}.`, REFERENCE_HINT);
  if (!input) throw fail('it is empty');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw fail(`"${d}" is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw fail('it names no registry host');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  // The first component is a registry only if it looks like a host (has a dot or port, or is localhost).
  if (!/[.:]/.test(registry) && registry !== 'localhost' && !registry.startsWith('[')) {
    throw fail(`"${registry}" is not a registry host (a host has a dot or a port, or is localhost)`);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  try {
    validateRegistryHost(registry);
    validateRepository(path);
    if (tag !== undefined) validateTag(tag);
  } catch (error) {
    throw new MultiarchError(`Malformed image reference "${text}": ${(error as Error).message}`, (error as MultiarchError).hint ?? REFERENCE_HINT);
  }
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
