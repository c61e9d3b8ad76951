import { parseGoMod } from '../project/go-module';

/**
 * Go version strings as go.mod and the go command spell them, and their
 * order. `go 1.26.0` in go.mod is a release; `go 1.21` (no patch) is a
 * language version, older than that version's first release candidate;
 * `toolchain go1.26.1` and `go env GOVERSION` carry the `go` prefix.
 */

/** The pins of a go.mod: what the module asks of the Go that builds it. */
export interface GoModPins {
  /** The `go` line, e.g. `1.26.0`: the oldest Go that may build the module. */
  go?: string;
  /** The `toolchain` line without its `go` prefix, e.g. `1.26.1`: the Go the module prefers. */
  toolchain?: string;
}

/** The pins of a go.mod's text, read by the one go.mod reader (project/go-module.ts). */
export function readGoModPins(goMod: string): GoModPins {
  const { goVersion, toolchain } = parseGoMod(goMod);
  return {
    ...(goVersion ? { go: goVersion } : {}),
    ...(toolchain && toolchain !== 'default' ? { toolchain: toolchain.replace(/^go/, '') } : {}),
  };
}

/** A parsed version: kind orders `1.21` < `1.21beta1` < `1.21rc1` < `1.21.0`. */
interface ParsedGoVersion {
  major: number;
  minor: number;
  kind: 0 | 1 | 2 | 3;
  number: number;
}

const KIND = { language: 0, beta: 1, rc: 2, release: 3 } as const;

/** Parses `1.26.0`, `go1.26.0`, `1.21rc2`, `1.19`; undefined for anything else (e.g. a devel build). */
export function parseGoVersion(text: string): ParsedGoVersion | undefined {
  const match = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+)|(beta|rc)(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, major, minor, patch, pre, preNumber] = match;
  if (patch !== undefined) return { major: Number(major), minor: Number(minor), kind: KIND.release, number: Number(patch) };
  if (pre !== undefined) return { major: Number(major), minor: Number(minor), kind: KIND[pre as 'beta' | 'rc'], number: Number(preNumber) };
  // Before Go 1.21 releases were named 1.20, 1.19: a bare 1.N is also the first release of those.
  const legacyRelease = Number(major) === 1 && Number(minor) < 21;
  return { major: Number(major), minor: Number(minor), kind: legacyRelease ? KIND.release : KIND.language, number: 0 };
}

/** Negative, zero or positive as a is older than, the same as, or newer than b; unparsable sorts last (newest). */
export function compareGoVersions(a: string, b: string): number {
  const x = parseGoVersion(a);
  const y = parseGoVersion(b);
  if (!x || !y) return (x ? 0 : 1) - (y ? 0 : 1);
  return x.major - y.major || x.minor - y.minor || x.kind - y.kind || x.number - y.number;
}

/**
 * The toolchain name that meets a version: a language version `1.26` is met
 * by the release `go1.26.0`; a release or candidate names itself.
 */
export function toolchainFor(version: string): string {
  const parsed = parseGoVersion(version);
  if (parsed && parsed.kind === KIND.language) return `go${parsed.major}.${parsed.minor}.0`;
  return `go${version.replace(/^go/, '')}`;
}

/** The newest of the module's pins: what a toolchain must be at least to honour both lines. */
export function wantedVersion(pins: GoModPins): string | undefined {
  const versions = [pins.go, pins.toolchain].filter((v): v is string => v !== undefined);
  return versions.sort(compareGoVersions).pop();
}

/** Go learned GOTOOLCHAIN (fetching another Go through the module proxy) in 1.21. */
export function canSwitchToolchains(installed: string): boolean {
  const parsed = parseGoVersion(installed);
  return parsed === undefined || compareGoVersions(installed, '1.21.0') >= 0;
}
