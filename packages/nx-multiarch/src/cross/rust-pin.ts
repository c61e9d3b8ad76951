import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { MultiarchError } from '../errors';

/**
 * A project's Rust toolchain pin, as rustup reads it: `rust-toolchain.toml`
 * (`[toolchain] channel = "…"`) or the older one-line `rust-toolchain`, in
 * the package folder or the nearest parent, up to the workspace root.
 */
export interface RustPin {
  /** The file that pins, relative to the workspace root (for messages). */
  file: string;
  /** The channel as written: `1.85.0`, `1.85`, `stable`, `nightly-2025-01-01`. */
  channel: string;
}

/** What a channel asks for: an exact release, any patch of a minor release, or a named channel. */
export type PinRequirement =
  | { kind: 'version'; major: number; minor: number; patch?: number }
  | { kind: 'channel'; name: 'stable' | 'beta' | 'nightly'; date?: string };

const PIN_FILES = ['rust-toolchain.toml', 'rust-toolchain'];

/** Finds the pin that rustup would apply to `packageDir`, if any. */
export function findRustPin(packageDir: string, workspaceRoot: string): RustPin | undefined {
  const root = resolve(workspaceRoot);
  let dir = resolve(packageDir);
  for (;;) {
    for (const name of PIN_FILES) {
      const path = join(dir, name);
      if (existsSync(path)) return { file: relative(root, path) || name, channel: parsePinFile(readFileSync(path, 'utf8'), relative(root, path)) };
    }
    if (dir === root || dirname(dir) === dir || relative(root, dir).startsWith('..')) return undefined;
    dir = dirname(dir);
  }
}

/**
 * The channel of a pin file. The TOML form needs only `[toolchain]` and its
 * `channel` key (components, targets and profile do not choose a
 * toolchain), so a few lines of parsing do instead of a TOML library.
 */
export function parsePinFile(text: string, file: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.replace(/#.*$/, '').trim());
  const isToml = lines.some((line) => line.startsWith('['));
  if (!isToml) {
    const channel = lines.find((line) => line !== '');
    if (channel) return channel;
    throw new MultiarchError(`${file} names no toolchain.`, 'Write a channel into it, e.g. 1.85.0, or use rust-toolchain.toml with [toolchain] channel = "1.85.0".');
  }
  let section = '';
  for (const line of lines) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const channel = /^channel\s*=\s*["']([^"']+)["']$/.exec(line);
    if (section === 'toolchain' && channel) return channel[1].trim();
  }
  throw new MultiarchError(
    `${file} has no [toolchain] channel.`,
    'Add [toolchain] with channel = "<version>" (e.g. "1.85.0"); a pin by "path" is not supported by cargo-cross.',
  );
}

/** Reads a channel as a requirement; a channel with a host suffix (`1.85.0-x86_64-…`) keeps only the release. */
export function pinRequirement(channel: string, file: string): PinRequirement {
  const version = /^(\d+)\.(\d+)(?:\.(\d+))?(?:-[a-z0-9_]+(?:-[a-z0-9_]+)*)?$/.exec(channel);
  if (version) {
    return { kind: 'version', major: Number(version[1]), minor: Number(version[2]), ...(version[3] !== undefined ? { patch: Number(version[3]) } : {}) };
  }
  const named = /^(stable|beta|nightly)(?:-(\d{4}-\d{2}-\d{2}))?(?:-[a-z0-9_-]+)?$/.exec(channel);
  if (named) return { kind: 'channel', name: named[1] as 'stable' | 'beta' | 'nightly', ...(named[2] ? { date: named[2] } : {}) };
  throw new MultiarchError(
    `${file} pins the channel "${channel}", which cargo-cross cannot read.`,
    'Pin a release ("1.85.0" or "1.85") or a channel ("stable", "nightly-2025-01-01").',
  );
}

/** A rustc release read from `rustc -V`: `rustc 1.85.0 (4d91de4e4 2025-02-17)`, `rustc 1.97.0-nightly (…)`. */
export interface RustcVersion {
  major: number;
  minor: number;
  patch: number;
  /** `stable`, `beta` or `nightly`, from the version's suffix. */
  channel: 'stable' | 'beta' | 'nightly';
  /** The commit date in the version line, if any. */
  date?: string;
  text: string;
}

export function parseRustcVersion(line: string): RustcVersion | undefined {
  const match = /^rustc (\d+)\.(\d+)\.(\d+)(?:-(beta|nightly)[.\d]*)?(?: \([0-9a-f]+ (\d{4}-\d{2}-\d{2})\))?/.exec(line.trim());
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    channel: (match[4] as 'beta' | 'nightly' | undefined) ?? 'stable',
    ...(match[5] ? { date: match[5] } : {}),
    text: `${match[1]}.${match[2]}.${match[3]}${match[4] ? `-${match[4]}` : ''}`,
  };
}

/**
 * Whether a compiler meets a pin. A release pin wants that release (any patch
 * when the pin has none) of the stable channel. A named channel wants a
 * compiler of that channel; a dated nightly wants that nightly's build date
 * (a nightly's commit date is the day before its name, so either is accepted).
 */
export function meetsPin(version: RustcVersion, pin: PinRequirement): boolean {
  if (pin.kind === 'version') {
    return version.channel === 'stable' && version.major === pin.major && version.minor === pin.minor && (pin.patch === undefined || version.patch === pin.patch);
  }
  if (version.channel !== pin.name) return false;
  if (!pin.date || !version.date) return pin.date === undefined;
  const dayBefore = new Date(Date.parse(`${pin.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  return version.date === pin.date || version.date === dayBefore;
}
