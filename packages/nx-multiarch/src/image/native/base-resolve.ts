import { MultiarchError } from '../../errors';
import { isDigest } from '../../oci/digest';
import type { Digest } from '../../oci/types';
import { validateRegistryHost, validateRepository, validateTag } from '../../registry/reference';
import { resolveBase, type ResolveBaseOptions, type ResolvedBase } from './base-image';

/**
 * Where a FROM image is pulled from, before anything is fetched (pure):
 *
 * - `baseImages` substitutes one image for another, as written in the FROM
 *   line (`"alpine:3.20": "127.0.0.1:5000/mirror/alpine:3.20"` or
 *   `"oci-layout://vendor/alpine:3.20"`). The substitute is used alone.
 * - `registryMirrors` lists, per registry host, mirrors tried in order
 *   before the registry itself, as BuildKit's `[registry."docker.io"]
 *   mirrors` do. A mirror may carry a path prefix (`127.0.0.1:5000/hub`),
 *   under which the image keeps its repository path.
 *
 * Docker Hub (an image named without a registry host, or `docker.io/…`) is
 * reached only through a mirror or a substitution: the native engine never
 * pulls from Docker Hub itself (rate limits, and CI machines that cannot
 * reach it), so there it has no origin candidate.
 */

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

export interface BaseSourceOptions {
  /** Registry host → mirrors (`host[:port][/prefix]`), tried in order before the registry itself. */
  registryMirrors?: Record<string, string[]>;
  /** Image as written in FROM → the image or `oci-layout://` path to use instead. */
  baseImages?: Record<string, string>;
}

/** An image name in Docker's normal form: `docker.io/library/alpine:latest`. */
export interface NormalName {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

export interface BaseCandidate {
  /** What resolveBase is given: a registry reference with a host, or `oci-layout://…`, or `scratch`. */
  image: string;
  via: 'as-written' | 'substitution' | 'mirror' | 'origin';
  /** The mirror (`host[:port][/prefix]`) for via = mirror. */
  mirror?: string;
}

export interface BaseCandidates {
  candidates: BaseCandidate[];
  /** The normal name of a registry image (undefined for scratch and layouts). */
  name?: NormalName;
  /** Why the registry itself is not among the candidates (Docker Hub). */
  originSkipped?: string;
}

function isHostComponent(component: string): boolean {
  return /[.:]/.test(component) || component === 'localhost' || component.startsWith('[');
}

function normalRegistry(host: string): string {
  return HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

/**
 * Docker's familiar-name rules: a first component without a dot, a port or
 * `localhost` is part of a Docker Hub repository, and a one-component Hub
 * repository lives under `library/`. Undefined for `scratch` and layouts.
 */
export function normalizeImageName(image: string): NormalName | undefined {
  if (image === 'scratch' || image.startsWith('oci-layout://')) return undefined;
  let rest = image.trim();
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw new MultiarchError(`Image "${image}": "${d}" is not a sha256 digest.`, 'Write <name>[:tag][@sha256:<64 hex>].');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = validateTag(rest.slice(colon + 1));
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && isHostComponent(first)) {
    registry = normalRegistry(validateRegistryHost(first));
    repository = rest.slice(slash + 1);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  validateRepository(repository);
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The key two spellings of one image share: `docker.io/library/alpine:latest` for `alpine`. */
function matchKey(name: NormalName): string {
  const tag = name.tag ?? (name.digest ? undefined : 'latest');
  return `${name.registry}/${name.repository}${tag ? `:${tag}` : ''}${name.digest ? `@${name.digest}` : ''}`;
}

function nameOnMirror(name: NormalName, mirror: string): string {
  return `${mirror}/${name.repository}${name.tag ? `:${name.tag}` : ''}${name.digest ? `@${name.digest}` : ''}`;
}

const OPTION_HINT =
  'Write registryMirrors as { "docker.io": ["127.0.0.1:5000"] } (host[:port][/prefix] each, tried in order) and baseImages as { "alpine:3.20": "127.0.0.1:5000/mirror/alpine:3.20" } or { "alpine:3.20": "oci-layout://vendor/alpine:3.20" }.';

/** Checks the two options' shapes (they come from nx.json or project.json, unchecked by Nx). */
export function validateBaseSourceOptions(registryMirrors: unknown, baseImages: unknown): BaseSourceOptions {
  const out: BaseSourceOptions = {};
  if (registryMirrors !== undefined && registryMirrors !== null) {
    if (typeof registryMirrors !== 'object' || Array.isArray(registryMirrors)) {
      throw new MultiarchError('The registryMirrors option must be an object: registry host → list of mirrors.', OPTION_HINT);
    }
    out.registryMirrors = {};
    for (const [host, mirrors] of Object.entries(registryMirrors as Record<string, unknown>)) {
      const list = typeof mirrors === 'string' ? [mirrors] : mirrors;
      if (!Array.isArray(list) || list.some((m) => typeof m !== 'string' || m === '')) {
        throw new MultiarchError(`registryMirrors["${host}"] must be a list of mirrors (host[:port][/prefix]).`, OPTION_HINT);
      }
      const mirrorsOf: string[] = [];
      for (const raw of list as string[]) {
        const mirror = raw.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
        const slash = mirror.indexOf('/');
        try {
          validateRegistryHost(slash < 0 ? mirror : mirror.slice(0, slash));
          if (slash >= 0) validateRepository(mirror.slice(slash + 1));
        } catch (error) {
          throw new MultiarchError(`registryMirrors["${host}"]: "${raw}" is not a mirror address: ${(error as Error).message}`, OPTION_HINT);
        }
        mirrorsOf.push(mirror);
      }
      out.registryMirrors[normalRegistry(host.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, ''))] = mirrorsOf;
    }
  }
  if (baseImages !== undefined && baseImages !== null) {
    if (typeof baseImages !== 'object' || Array.isArray(baseImages)) {
      throw new MultiarchError('The baseImages option must be an object: image as written in FROM → image or oci-layout:// path to use.', OPTION_HINT);
    }
    out.baseImages = {};
    for (const [from, to] of Object.entries(baseImages as Record<string, unknown>)) {
      if (typeof to !== 'string' || to === '') throw new MultiarchError(`baseImages["${from}"] must be an image reference or an oci-layout:// path.`, OPTION_HINT);
      out.baseImages[from] = to;
    }
  }
  return out;
}

function findSubstitute(image: string, name: NormalName | undefined, baseImages: Record<string, string>): string | undefined {
  if (Object.prototype.hasOwnProperty.call(baseImages, image)) return baseImages[image];
  if (!name) return undefined;
  const key = matchKey(name);
  for (const [from, to] of Object.entries(baseImages)) {
    let other: NormalName | undefined;
    try {
      other = normalizeImageName(from);
    } catch {
      continue;
    }
    if (other && matchKey(other) === key) return to;
  }
  return undefined;
}

/**
 * The images to try for one FROM image, in order. A substitute is used as
 * is; a registry image is tried on its registry's mirrors first, then on
 * the registry itself (never on Docker Hub).
 */
export function baseCandidates(image: string, options: BaseSourceOptions = {}): BaseCandidates {
  const name = normalizeImageName(image);
  const substitute = findSubstitute(image, name, options.baseImages ?? {});
  if (substitute !== undefined) return { candidates: [{ image: substitute, via: 'substitution' }], ...(name ? { name } : {}) };
  if (!name) return { candidates: [{ image, via: 'as-written' }] };
  const candidates: BaseCandidate[] = (options.registryMirrors?.[name.registry] ?? []).map((mirror) => ({ image: nameOnMirror(name, mirror), via: 'mirror', mirror }));
  if (name.registry === DOCKER_HUB) {
    return { candidates, name, originSkipped: 'Docker Hub itself is not pulled from' };
  }
  candidates.push({ image: nameOnMirror(name, name.registry), via: 'origin' });
  return { candidates, name };
}

/** `docker.io/library/alpine:3.20`, for messages. */
export function formatNormalName(name: NormalName): string {
  return nameOnMirror(name, name.registry);
}

/** What image.json records of the base: the FROM image, where it came from, and its digest. */
export interface BaseRecord {
  /** The FROM image after ARG substitution, as written. */
  image: string;
  /** The reference or layout actually read (a mirror's, a substitute's, or the image itself). */
  source: string;
  /** The platform's image manifest digest; absent for scratch. */
  digest?: Digest;
}

export interface ResolveFromSourcesOptions extends ResolveBaseOptions, BaseSourceOptions {
  /** One line per mirror that failed before another answered. */
  log?: (line: string) => void;
}

function fallbackHint(name: NormalName | undefined): string {
  const host = name?.registry ?? '<registry>';
  return (
    `Start the mirror or fix its address in registryMirrors["${host}"] (the nx-multiarch plugin options in nx.json, or the docker-arch-build target's options); ` +
    `or map the image to one you can reach with baseImages { "<image>": "<host>/<repo>:<tag>" | "oci-layout://<path>:<tag>" }.`
  );
}

/**
 * resolveBase over the candidates of baseCandidates: the first that gives
 * an image wins. A failing mirror is logged and the next one tried; when
 * every candidate fails, one error lists each with its reason.
 */
export async function resolveBaseFromSources(image: string, options: ResolveFromSourcesOptions): Promise<{ base: ResolvedBase; record: BaseRecord }> {
  const { candidates, name, originSkipped } = baseCandidates(image, options);
  if (candidates.length === 0) {
    throw new MultiarchError(
      `FROM ${image} is a Docker Hub image (${name ? formatNormalName(name) : image}), which the native engine pulls only through a registry mirror or a substitution.`,
      `Set registryMirrors { "docker.io": ["<host>[:port]"] } (nx-multiarch plugin options in nx.json, or the target's options) to a mirror that holds it, or map it with baseImages { "${image}": "<host>/<repo>:<tag>" | "oci-layout://<path>:<tag>" }.`,
    );
  }
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const base = await resolveBase(candidate.image, options);
      if (failures.length > 0) options.log?.(`base ${image}: pulled from ${candidate.image} after ${failures.join('; ')}`);
      return { base, record: { image, source: candidate.image, ...(base.manifestDigest ? { digest: base.manifestDigest } : {}) } };
    } catch (error) {
      // Only a mirror falls through to the next candidate; a substitute or the registry itself fails as it is.
      if (candidate.via !== 'mirror') {
        if (failures.length === 0) throw error;
        failures.push(`${candidate.via} ${candidate.image}: ${(error as Error).message}`);
        break;
      }
      failures.push(`mirror ${candidate.mirror} (${candidate.image}): ${(error as Error).message}`);
    }
  }
  if (originSkipped) failures.push(`${name ? name.registry : 'origin'}: not tried (${originSkipped})`);
  throw new MultiarchError(`FROM ${image} could not be pulled from any source:\n${failures.map((f) => `  ${f}`).join('\n')}`, fallbackHint(name));
}
