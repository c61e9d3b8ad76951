import { posix } from 'node:path';
import { MultiarchError } from '../errors';

/**
 * The `downloads` option: what a Dockerfile downloads, mapped once to the
 * workspace target that builds it, e.g.
 *
 *   "downloads": { "linkerd2-proxy-*.tar.gz": "linkerd2-proxy:cargo-cross" }
 *
 * A pattern without `/` is matched against the URL's file name, one with
 * `/` against the whole URL; `*` is any run of characters, `?` one. The
 * checksum file of a mapped package (`<name>.txt`, `<name>.tar.gz.txt`,
 * `.sha256`, `.sha256sum`) maps with it. Pure, so the import generator can
 * propose entries when names match (proposeDownloadMapping).
 */
export type DownloadMap = Record<string, string>;

export interface DownloadMatch {
  pattern: string;
  project: string;
  /** The producing target (cargo-cross, go-cross, or a renamed one). */
  target: string;
  /** The package tarball itself, or its checksum file. */
  role: 'package' | 'checksum';
}

const HINT = 'Write downloads as { "<file name or URL pattern, * for any text>": "<project>:<target>" }, e.g. { "linkerd2-proxy-*.tar.gz": "linkerd2-proxy:cargo-cross" }.';

export function validateDownloadMap(value: unknown): DownloadMap {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MultiarchError('The downloads option must be an object: pattern → "<project>:<target>".', HINT);
  const out: DownloadMap = {};
  for (const [pattern, target] of Object.entries(value as Record<string, unknown>)) {
    if (pattern.trim() === '') throw new MultiarchError('The downloads option has an empty pattern.', HINT);
    if (typeof target !== 'string' || !/^[^:\s]+:[^:\s]+$/.test(target)) {
      throw new MultiarchError(`downloads["${pattern}"] must name "<project>:<target>", not ${JSON.stringify(target)}.`, HINT);
    }
    out[pattern] = target;
  }
  return out;
}

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function fileName(url: string): string {
  try {
    return posix.basename(new URL(url).pathname);
  } catch {
    return posix.basename(url);
  }
}

function matchOne(url: string, map: DownloadMap): { pattern: string; value: string } | undefined {
  const name = fileName(url);
  for (const [pattern, value] of Object.entries(map)) {
    if (globRegExp(pattern).test(pattern.includes('/') ? url : name)) return { pattern, value };
  }
  return undefined;
}

const CHECKSUM_SUFFIXES = ['.sha256sum', '.sha256', '.txt'];

/** The workspace target a downloaded URL maps to (the package, or its checksum file), if any. */
export function matchDownload(url: string, map: DownloadMap): DownloadMatch | undefined {
  const split = (hit: { pattern: string; value: string }, role: DownloadMatch['role']): DownloadMatch => {
    const [project, target] = hit.value.split(':');
    return { pattern: hit.pattern, project, target, role };
  };
  const direct = matchOne(url, map);
  if (direct) return split(direct, 'package');
  for (const suffix of CHECKSUM_SUFFIXES) {
    if (!url.endsWith(suffix)) continue;
    const stem = url.slice(0, -suffix.length);
    // `<x>.tar.gz.txt` names the checksum of `<x>.tar.gz`; Linkerd's `<x>.txt` that of `<x>.tar.gz`.
    for (const candidate of stem.endsWith('.tar.gz') || stem.endsWith('.tgz') ? [stem] : [`${stem}.tar.gz`, `${stem}.tgz`]) {
      const hit = matchOne(candidate, map);
      if (hit) return split(hit, 'checksum');
    }
  }
  return undefined;
}

/** The workspace projects a Dockerfile's URLs need (for graph edges and dependsOn), each once. */
export function downloadProducers(urls: readonly string[], map: DownloadMap): Array<{ project: string; target: string }> {
  const seen = new Map<string, { project: string; target: string }>();
  for (const url of urls) {
    const match = matchDownload(url, map);
    if (match) seen.set(`${match.project}:${match.target}`, { project: match.project, target: match.target });
  }
  return [...seen.values()];
}

/**
 * What a Dockerfile's text may download, as written (variables unexpanded):
 * words with `://`, and words that start with a variable and hold a path
 * (`${PROXY_URL}/${VERSION}/linkerd2-proxy-${VERSION}-${TARGETARCH}.tar.gz`,
 * the base URL set by an ARG). Enough for the graph, which runs no build;
 * the build checks the URLs again with their values.
 */
export function dockerfileUrls(text: string): string[] {
  const words = text.split(/[\s"'\\]+/).filter((w) => /^(?:https?|ftp):\/\//i.test(w) || /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\/\S/.test(w));
  return [...new Set(words)];
}

export interface PackageProject {
  name: string;
  /** Its cross target (cargo-cross or go-cross, as named in the workspace). */
  crossTarget: string;
}

/**
 * A downloads entry to propose when a downloaded file is named after a
 * workspace project that builds packages (`linkerd2-proxy-v2.1-amd64.tar.gz`
 * and project linkerd2-proxy → `"linkerd2-proxy-*.tar.gz": "linkerd2-proxy:cargo-cross"`).
 * The longest matching project name wins; undefined when none matches.
 */
export function proposeDownloadMapping(url: string, projects: readonly PackageProject[]): { pattern: string; target: string } | undefined {
  const name = fileName(url);
  const ext = ['.tar.gz', '.tgz'].find((e) => name.endsWith(e));
  if (!ext) return undefined;
  const matching = projects.filter((p) => name.startsWith(`${p.name}-`) || name.startsWith(`${p.name}_`)).sort((a, b) => b.name.length - a.name.length);
  const project = matching[0];
  if (!project) return undefined;
  const separator = name[project.name.length];
  return { pattern: `${project.name}${separator}*${ext}`, target: `${project.name}:${project.crossTarget}` };
}
