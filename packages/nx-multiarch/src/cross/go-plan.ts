import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';
import type { GoOs } from './go-os';

/**
 * The pure half of go-cross: environment and `go build` arguments for one
 * arch, and the binary names. Unit-tested without running Go.
 */

/** The options of the go-cross executor (schema.json). */
export interface GoCrossOptions {
  arch: string;
  main?: string[] | string;
  outputName?: string;
  ldflags?: string[] | string;
  tags?: string[] | string;
  cwd?: string;
  version?: string;
  /** The environment variable the version is read from when "version" is not set. Default NX_MULTIARCH_VERSION. */
  versionEnv?: string;
  versionVariable?: string;
  /** Build with cgo (CGO_ENABLED=1) and the cross C compiler of the arch. */
  cgo?: boolean;
  /** The C compiler for cgo; default $CC, else `<gcc prefix>-gcc` from the platform table. */
  cc?: string;
  /** The system: linux (default), darwin or windows (CLI release binaries; not for images). */
  os?: string;
  /** Also write release assets `<releaseName>-<version>-<os>-<arch>[.exe]` and `.sha256` files (Linkerd's CLI downloads). */
  releaseName?: string;
}

/** Environment variable read for the version when the option is not set (a declared cache input). */
export const VERSION_ENV = 'NX_MULTIARCH_VERSION';

/**
 * Variant settings of other arches. Left in the environment they would change
 * the bytes without being an input of the task, so they are dropped; the
 * table's own (GOARM=7 for arm) are set explicitly.
 */
const VARIANT_ENV = ['GOARM', 'GOAMD64', 'GO386', 'GOPPC64', 'GOMIPS', 'GOMIPS64', 'GORISCV64', 'GOWASM'];

/**
 * How cgo is set for a build: off, or on with the C compiler for the target.
 * Without cgo a C compiler in the environment plays no part in the build.
 */
export type CgoSetting = { enabled: false } | { enabled: true; cc: string };

/**
 * The C compiler cgo uses for the arch: the "cc" option, else the user's CC,
 * else the cross gcc of the platform table (x86_64-linux-gnu-gcc,
 * aarch64-linux-gnu-gcc, arm-linux-gnueabihf-gcc, ...).
 */
export function cgoCompiler(platform: PlatformSpec, option: string | undefined, baseEnv: NodeJS.ProcessEnv): { cc: string; overridden: boolean } {
  if (option !== undefined && option !== '') return { cc: option, overridden: true };
  if (baseEnv.CC !== undefined && baseEnv.CC !== '') return { cc: baseEnv.CC, overridden: true };
  return { cc: `${platform.gccPrefix}-gcc`, overridden: false };
}

export function goEnv(platform: PlatformSpec, baseEnv: NodeJS.ProcessEnv, cgo: CgoSetting = { enabled: false }, os: GoOs = 'linux'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  for (const name of VARIANT_ENV) delete env[name];
  const cgoEnv = cgo.enabled ? { CGO_ENABLED: '1', CC: cgo.cc } : { CGO_ENABLED: '0' };
  return { ...env, ...cgoEnv, GOOS: os, ...platform.goEnv };
}

export function resolveVersion(options: Pick<GoCrossOptions, 'version' | 'versionEnv'>, env: NodeJS.ProcessEnv): string {
  const version = options.version ?? env[options.versionEnv ?? VERSION_ENV] ?? 'dev';
  if (version === '' || /[\s'"`\\]/.test(version)) {
    throw new MultiarchError(
      `The version "${version}" cannot be passed to -ldflags -X: it is empty or has spaces, quotes or backslashes.`,
      `Set the go-cross option "version" (or ${options.versionEnv ?? VERSION_ENV}) to a plain string such as v1.2.3.`,
    );
  }
  return version;
}

/** `-s -w -buildid=` strip symbols and the build id (which hashes paths); then the version; then the user's flags. */
export function goLdflags(version: string, versionVariable: string, extra: string): string {
  return ['-s', '-w', '-buildid=', `-X ${versionVariable}=${version}`, extra.trim()].filter(Boolean).join(' ');
}

/**
 * The file name `go build` gives a main package: the last element of its
 * import path, or the one before it when that is a major-version suffix (v2).
 */
export function defaultBinaryName(importPath: string): string {
  const parts = importPath.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? importPath;
  if (/^v[0-9]+$/.test(last) && parts.length > 1) return parts[parts.length - 2];
  return posix.basename(last);
}

export interface GoPlanInput {
  platform: PlatformSpec;
  /** Main packages as given (relative to the module root, e.g. `./cmd/controller`). */
  mains: readonly string[];
  /** Where `go build -o` writes: a file for one binary, a folder ending in `/` for several. */
  output: string;
  ldflags: string;
  tags: readonly string[];
  baseEnv: NodeJS.ProcessEnv;
  cgo?: CgoSetting;
  os?: GoOs;
}

export interface GoPlan {
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function planGoBuild(input: GoPlanInput): GoPlan {
  return {
    env: goEnv(input.platform, input.baseEnv, input.cgo, input.os),
    args: [
      'build',
      // No checkout paths in the binary, and no git state: two clones at different paths give the same bytes.
      '-trimpath',
      '-buildvcs=false',
      '-ldflags',
      input.ldflags,
      ...(input.tags.length > 0 ? ['-tags', input.tags.join(',')] : []),
      '-o',
      input.output,
      ...input.mains,
    ],
  };
}

/** The binary names for the main packages, refusing two mains that would overwrite each other. */
export function binaryNames(importPaths: readonly string[], outputName: string | undefined): string[] {
  if (outputName !== undefined) {
    if (importPaths.length !== 1) {
      throw new MultiarchError(
        `"outputName" names one binary, but "main" lists ${importPaths.length} packages.`,
        'Drop "outputName" (each binary is named after its package) or split the mains into separate targets.',
      );
    }
    if (outputName === '' || outputName.includes('/') || outputName === '.' || outputName === '..') {
      throw new MultiarchError(`"outputName" ${JSON.stringify(outputName)} is not a file name.`, 'Use a plain file name such as "controller".');
    }
    return [outputName];
  }
  const names = importPaths.map(defaultBinaryName);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new MultiarchError(
        `Two main packages would both be written as ${name} (${importPaths.filter((_, j) => names[j] === name).join(', ')}).`,
        'Build them in separate go-cross targets, each with its own "outputName".',
      );
    }
    seen.add(name);
  }
  return names;
}
