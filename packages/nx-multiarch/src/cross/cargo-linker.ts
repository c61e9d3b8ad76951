import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';
import { requireLinker } from './toolchain-preflight';
import { cargoTargetEnvKey } from './cargo-plan';

/**
 * Which linker cargo-cross hands cargo, and a check that it is there. The
 * user's own CARGO_TARGET_<TRIPLE>_LINKER wins over the plugin's default (as
 * their CC_<triple> and AR_<triple> already do); set together with a
 * different "linker" option, the two disagree and neither silently wins.
 */
export type LinkerSource = { kind: 'default' } | { kind: 'option' } | { kind: 'env'; name: string };

export interface ChosenLinker {
  linker: string;
  source: LinkerSource;
}

function describeSource(source: LinkerSource): string {
  if (source.kind === 'env') return ` (set by ${source.name})`;
  if (source.kind === 'option') return ' (the "linker" option)';
  return '';
}

function fixFor(source: LinkerSource, platform: PlatformSpec): string {
  if (source.kind === 'env') return `Point ${source.name} at an installed linker, or unset it to use the default ${platform.gccPrefix}-gcc.`;
  return `Give the path of an installed linker in the "linker" option, or remove the option to use the default ${platform.gccPrefix}-gcc.`;
}

/** A linker given as a path (it has a slash): it must exist and be executable. Names are looked up on PATH. */
function requireLinkerPath(linker: string, source: LinkerSource, platform: PlatformSpec, cwd: string): string {
  const path = isAbsolute(linker) ? linker : resolve(cwd, linker);
  const info = (() => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  })();
  if (!info) throw new MultiarchError(`The linker ${linker}${describeSource(source)} for ${platform.arch} does not exist.`, fixFor(source, platform));
  try {
    if (!info.isFile()) throw new Error('not a file');
    accessSync(path, constants.X_OK);
  } catch {
    throw new MultiarchError(`The linker ${linker}${describeSource(source)} for ${platform.arch} is not an executable file.`, fixFor(source, platform));
  }
  return path;
}

export function chooseCargoLinker(option: string | undefined, triple: string, platform: PlatformSpec, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ChosenLinker {
  const name = `CARGO_TARGET_${cargoTargetEnvKey(triple)}_LINKER`;
  const fromEnv = env[name] || undefined;
  if (option !== undefined && fromEnv !== undefined && option !== fromEnv) {
    throw new MultiarchError(
      `The "linker" option says ${option} but ${name} says ${fromEnv}; cargo-cross will not pick one silently.`,
      `Remove the "linker" option to use ${name}, or unset ${name} to use the option.`,
    );
  }
  const chosen: ChosenLinker =
    option !== undefined
      ? { linker: option, source: { kind: 'option' } }
      : fromEnv !== undefined
        ? { linker: fromEnv, source: { kind: 'env', name } }
        : { linker: `${platform.gccPrefix}-gcc`, source: { kind: 'default' } };
  return chosen;
}

/** Throws when the chosen linker cannot run: a path that does not exist, or a name not on PATH. */
export function requireCargoLinker(chosen: ChosenLinker, platform: PlatformSpec, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string {
  const { linker, source } = chosen;
  if (linker.includes('/')) return requireLinkerPath(linker, source, platform, cwd);
  if (source.kind === 'env') {
    try {
      return requireLinker(linker, platform, env, true);
    } catch (error) {
      throw new MultiarchError(`The linker ${linker}${describeSource(source)} for ${platform.arch} is not on PATH.`, fixFor(source, platform));
    }
  }
  return requireLinker(linker, platform, env, source.kind === 'option');
}
