import { isAbsolute, join, relative } from 'node:path';
import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';

/**
 * The pure half of cargo-cross: which triple, which cargo arguments, which
 * environment. No processes, no files, so every rule here is unit-tested.
 */
export type RustLibc = 'gnu' | 'musl';

/** The options of the cargo-cross executor (schema.json). */
export interface CargoCrossOptions {
  arch: string;
  bins?: string[] | string;
  profile?: string;
  features?: string[] | string;
  toolchain?: string;
  libc?: RustLibc;
  staticCrt?: boolean;
  rustflags?: string[] | string;
  linker?: string;
  package?: boolean;
  cwd?: string;
  manifestPath?: string;
  targetDir?: string;
  /** The package version; default: the environment variable `versionEnv` names, else Cargo.toml's. */
  version?: string;
  /** The environment variable release pipelines set the version in (a cache input of the target). Default NX_MULTIARCH_VERSION. */
  versionEnv?: string;
}

/** Where cargo-cross reads a release version set by the pipeline, unless "versionEnv" names another variable. */
export const CARGO_VERSION_ENV = 'NX_MULTIARCH_VERSION';

/**
 * The version in the package's file names: the "version" option, else the
 * environment variable (release pipelines set it, as Linkerd's does), else
 * Cargo.toml's. It becomes part of a file name, so it must be one word.
 */
export function packageVersion(options: Pick<CargoCrossOptions, 'version' | 'versionEnv'>, env: NodeJS.ProcessEnv, cargoVersion: string): { version: string; from: string } {
  const variable = options.versionEnv ?? CARGO_VERSION_ENV;
  const fromEnv = env[variable];
  const [version, from] =
    options.version !== undefined && options.version !== ''
      ? [options.version, 'the "version" option']
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, variable]
        : [cargoVersion, 'Cargo.toml'];
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) {
    throw new MultiarchError(
      `The package version "${version}" (from ${from}) cannot be part of a file name.`,
      `Set the cargo-cross option "version" or ${variable} to a plain version such as 2.14.0 or v2.14.0.`,
    );
  }
  return { version, from };
}

/** The Rust target triple for an arch and libc, or a clear error where the table has none. */
export function rustTriple(platform: PlatformSpec, libc: RustLibc): string {
  if (libc === 'gnu') return platform.rustTriple;
  if (platform.rustMuslTriple) return platform.rustMuslTriple;
  throw new MultiarchError(
    `There is no musl Rust target for ${platform.arch} in the platform table.`,
    `Use libc "gnu" for ${platform.arch} (with staticCrt, the default, the binary is static anyway).`,
  );
}

/** `aarch64-unknown-linux-gnu` → `AARCH64_UNKNOWN_LINUX_GNU`, as cargo's env config names it. */
export function cargoTargetEnvKey(triple: string): string {
  return triple.toUpperCase().replace(/[-.]/g, '_');
}

/** Cargo's folder for a profile under `target/<triple>/`: dev and test build into `debug`. */
export function profileDir(profile: string): string {
  return profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
}

/**
 * Options that Nx may hand over as a string (from the command line) or as an
 * array (from project.json); each part is split again, so `["-C opt-level=2"]`
 * and `"-C opt-level=2"` give the same rustc flags.
 */
export function listOption(value: string[] | string | undefined, separator: RegExp = /,/): string[] {
  if (value === undefined) return [];
  const parts = (typeof value === 'string' ? [value] : value).flatMap((part) => part.split(separator));
  return parts.map((part) => part.trim()).filter(Boolean);
}

export interface CargoPlanInput {
  platform: PlatformSpec;
  triple: string;
  /** The build machine's own triple: where build scripts and proc-macros run. */
  hostTriple: string;
  workspaceRoot: string;
  /** Absolute path of Cargo.toml. */
  manifestPath: string;
  /** Absolute target folder. */
  targetDir: string;
  /** Absolute CARGO_HOME (where the registry sources live). */
  cargoHome: string;
  rustc: string;
  linker: string;
  profile: string;
  bins: readonly string[];
  features: readonly string[];
  staticCrt: boolean;
  /** Extra rustc flags, in order: the RUSTFLAGS environment, then the rustflags option. */
  extraRustflags: readonly string[];
  sourceDateEpoch: number;
  /** The environment the build starts from (the task's). */
  baseEnv: NodeJS.ProcessEnv;
}

export interface CargoPlan {
  args: string[];
  env: NodeJS.ProcessEnv;
  rustflags: string[];
  /** Where cargo leaves each binary: `<targetDir>/<triple>/<profile dir>/<bin>`. */
  artifacts: Array<{ name: string; path: string }>;
}

/**
 * Path prefixes that rustc must not write into a binary (panic locations,
 * include paths): the checkout, a target folder outside it, and cargo's home
 * with the registry sources. The last matching remap wins in rustc, so the
 * more specific prefixes come last.
 */
export function remapFlags(workspaceRoot: string, targetDir: string, cargoHome: string): string[] {
  const remaps: Array<[string, string]> = [[workspaceRoot, '/nx-workspace']];
  if (!isInside(targetDir, workspaceRoot)) remaps.push([targetDir, '/nx-target']);
  remaps.push([cargoHome, '/cargo-home']);
  return remaps.map(([from, to]) => `--remap-path-prefix=${from}=${to}`);
}

/** The same remaps for gcc (`-ffile-prefix-map`), for C compiled by build scripts. */
export function prefixMapFlags(workspaceRoot: string, targetDir: string, cargoHome: string): string[] {
  return remapFlags(workspaceRoot, targetDir, cargoHome).map((flag) => flag.replace('--remap-path-prefix=', '-ffile-prefix-map='));
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A triple as cc-rs spells it in variable names: `CC_aarch64_unknown_linux_gnu`. */
function ccEnvKey(triple: string): string {
  return triple.replace(/[-.]/g, '_');
}

export function planCargoBuild(input: CargoPlanInput): CargoPlan {
  const rustflags = [
    ...(input.staticCrt ? ['-C', 'target-feature=+crt-static'] : []),
    ...remapFlags(input.workspaceRoot, input.targetDir, input.cargoHome),
    ...input.extraRustflags,
  ];
  const key = cargoTargetEnvKey(input.triple);
  const ccKey = ccEnvKey(input.triple);
  const hostCcKey = ccEnvKey(input.hostTriple);
  // C compiled by build scripts (cc-rs) must not embed checkout paths either.
  // cc-rs takes the first of CFLAGS_<triple>, TARGET_CFLAGS, CFLAGS, so the
  // user's flags from whichever they set come first and the maps are added.
  const cflagsFor = (triple: string): string => {
    const user = input.baseEnv[`CFLAGS_${ccEnvKey(triple)}`] ?? input.baseEnv[`CFLAGS_${triple}`] ?? input.baseEnv.TARGET_CFLAGS ?? input.baseEnv.CFLAGS;
    return [...(user ? [user] : []), ...prefixMapFlags(input.workspaceRoot, input.targetDir, input.cargoHome)].join(' ');
  };
  // For the build machine's own triple, cargo applies the linker setting to
  // build scripts and proc-macros too, and cc-rs reads CC/AR/CFLAGS for host
  // C. Set in one arch's build and not the next, they would rebuild every
  // host artifact, and all that depends on them, at each switch of arch in
  // the shared target folder: a one-line change would recompile every crate
  // three times. So the host's linker, CC and AR stay the native defaults (cc:
  // the same gcc), and its CFLAGS are the same in every arch's build.
  const native = input.triple === input.hostTriple;
  const env: NodeJS.ProcessEnv = {
    ...input.baseEnv,
    RUSTC: input.rustc,
    ...(native
      ? {}
      : {
          [`CARGO_TARGET_${key}_LINKER`]: input.linker,
          // Crates with C parts (cc-rs) compile with the same cross gcc, unless the user chose another.
          [`CC_${ccKey}`]: input.baseEnv[`CC_${ccKey}`] ?? `${input.platform.gccPrefix}-gcc`,
          [`AR_${ccKey}`]: input.baseEnv[`AR_${ccKey}`] ?? `${input.platform.gccPrefix}-ar`,
        }),
    [`CFLAGS_${hostCcKey}`]: cflagsFor(input.hostTriple),
    [`CFLAGS_${ccKey}`]: cflagsFor(input.triple),
    // The 0x1f-separated form keeps paths with spaces intact; it takes precedence over RUSTFLAGS.
    CARGO_ENCODED_RUSTFLAGS: rustflags.join('\x1f'),
    // Incremental artifacts make output depend on build history.
    CARGO_INCREMENTAL: '0',
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
  };
  delete env.RUSTFLAGS;
  const args = [
    'build',
    '--manifest-path',
    input.manifestPath,
    '--target',
    input.triple,
    '--target-dir',
    input.targetDir,
    '--profile',
    input.profile,
    // Crates were fetched once before (cargo fetch --locked); the build uses exactly those.
    '--locked',
    '--offline',
    ...input.bins.flatMap((bin) => ['--bin', bin]),
    ...(input.features.length > 0 ? ['--features', input.features.join(',')] : []),
  ];
  const dir = join(input.targetDir, input.triple, profileDir(input.profile));
  return { args, env, rustflags, artifacts: input.bins.map((name) => ({ name, path: join(dir, name) })) };
}
