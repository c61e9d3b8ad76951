import { MultiarchError } from '../errors';
import { requireGo } from '../cross/toolchain-preflight';
import { run } from '../util/exec';
import type { GoBuildInfoText } from './go-buildinfo';

/**
 * The module list a Go binary carries (its build info), as `go version -m`
 * prints it. Reading it from the binary rather than go.sum lists exactly the
 * modules linked in, with the go.sum hash of each. go-buildinfo.ts reads it
 * from the bytes of binaries built by Go 1.18 and later; `go version -m`
 * reads older ones.
 */
export interface GoModule {
  path: string;
  version: string;
  /** The go.sum `h1:` hash; absent for the main module and replaced ones. */
  sum?: string;
}

export interface GoBinaryInfo {
  /** Path inside the image. */
  file: string;
  /** e.g. go1.26.0 */
  goVersion: string;
  /** The main package's import path. */
  mainPath?: string;
  main?: GoModule;
  deps: GoModule[];
}

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** rustc writes "rustc version 1.x.y (hash date)" into the binaries it builds (.comment). */
export const RUSTC_VERSION_MARKER = Buffer.from('rustc version ', 'latin1');

/** The module info's lines (path, mod, dep, =>, build; tab-separated fields) as a GoBinaryInfo. */
function parseModInfoLines(lines: readonly string[], goVersion: string, file: string): GoBinaryInfo {
  const info: GoBinaryInfo = { file, goVersion, deps: [] };
  let last: GoModule | undefined;
  for (const line of lines) {
    const [kind, path, version, sum] = line.split('\t');
    if (kind === 'path') info.mainPath = path;
    else if (kind === 'mod') info.main = last = { path, version: version ?? '(devel)', ...(sum ? { sum } : {}) };
    else if (kind === 'dep') info.deps.push((last = { path, version: version ?? '', ...(sum ? { sum } : {}) }));
    else if (kind === '=>' && last) {
      // A replaced module: record what was actually linked.
      last.path = path;
      last.version = version ?? last.version;
      if (sum) last.sum = sum;
      else delete last.sum;
    }
  }
  return info;
}

/** Parses `go version -m <file>` output (tab-separated lines after the first). */
export function parseGoVersionM(text: string, file: string): GoBinaryInfo {
  const [first, ...rest] = text.split('\n');
  const goVersion = /:\s*(go\S+)/.exec(first ?? '')?.[1] ?? 'unknown';
  return parseModInfoLines(rest.map((line) => line.replace(/^\t/, '')), goVersion, file);
}

/** The build info read from a binary's bytes (go-buildinfo.ts), in the same form as `go version -m`'s. */
export function goBinaryInfoOf(buildInfo: GoBuildInfoText, file: string): GoBinaryInfo {
  return parseModInfoLines(buildInfo.modInfo.split('\n'), buildInfo.goVersion, file);
}

/** Runs `go version -m` on every Go binary of the image built before Go 1.18: its path in the image -> a copy of it on disk. */
export async function readGoBinaries(files: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Promise<GoBinaryInfo[]> {
  const binaries = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (binaries.length === 0) return [];
  let go: string;
  try {
    go = requireGo(env);
  } catch {
    throw new MultiarchError(
      `The image holds Go binaries built before Go 1.18 (${binaries.map(([p]) => `/${p}`).join(', ')}), and go, which reads their module lists for the SBOM, is not on PATH.`,
      'Install Go (or put its bin folder on PATH), or set "attestations": false on the docker-arch-build target.',
    );
  }
  const out: GoBinaryInfo[] = [];
  for (const [path, copy] of binaries) {
    const result = await run(go, ['version', '-m', copy], { env });
    if (result.exitCode !== 0) {
      throw new MultiarchError(`go version -m could not read the build info of /${path}: ${result.stderr.trim()}`, 'Build Go binaries with module mode on (the default).');
    }
    out.push(parseGoVersionM(result.stdout, path));
  }
  return out;
}

/** `rustc version 1.63.0 (…)` as rustc writes it into an ELF's .comment section. */
export function rustcVersionOf(content: Buffer): string | undefined {
  if (!content.subarray(0, 4).equals(ELF_MAGIC)) return undefined;
  const at = content.indexOf(RUSTC_VERSION_MARKER);
  return at < 0 ? undefined : rustcVersionAt(content, at);
}

/** The version after the marker at `at` in `bytes`: up to the NUL that ends it, else 80 bytes. */
export function rustcVersionAt(bytes: Buffer, at: number): string {
  const end = bytes.indexOf(0, at);
  return bytes.subarray(at + RUSTC_VERSION_MARKER.length, end < 0 ? at + 80 : end).toString('latin1').trim();
}
