import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MultiarchError } from '../errors';
import type { Arch, PlatformSpec } from '../platform/platforms';
import { run, which } from '../util/exec';
import { debianBinutilsPackage, debianGccPackage, debianLibcCrossPackage } from './arch-requirements';

// The package names live with the per-arch requirements that `nx-multiarch setup` installs.
export { debianBinutilsPackage, debianGccPackage } from './arch-requirements';

/**
 * Checks that run before a cross build starts compiling, so that a missing
 * linker or target std is one clear error naming the fix, not a linker error
 * three minutes into a build.
 */

/** A Rust toolchain as two absolute programs; cargo always runs with RUSTC set to `rustc`. */
export interface RustToolchain {
  /** The name it was chosen by (`system`, `path`, or a rustup toolchain). */
  name: string;
  cargo: string;
  rustc: string;
}

/**
 * Debian installs its rustc and cargo here (rustc-web/cargo-web 1.85 on
 * Debian 12, as tools/setup.sh installs them). They cross-compile once the
 * target std of the same version is copied in (DESIGN section 9a); rustup's
 * toolchains on this kind of machine have only the host std and cannot
 * download others.
 */
const SYSTEM_RUST_BIN = '/usr/bin';

/**
 * The arches whose cross gcc and Debian Rust std (gnu) tools/setup.sh
 * installs. Debian 12 packages no Rust std for riscv64 or for musl targets,
 * so for those the fix is a rustup toolchain, not the set-up script.
 */
const SETUP_SCRIPT_ARCHES: readonly Arch[] = ['amd64', 'arm64', 'arm', 'ppc64le', 's390x'];

/**
 * Resolves the `toolchain` option: `system` (Debian's /usr/bin/cargo and
 * rustc), `path` (whatever cargo and rustc are first on PATH), or the name of
 * a rustup toolchain (`stable`, `1.63`, a linked custom toolchain).
 */
export async function resolveRustToolchain(name: string, env: NodeJS.ProcessEnv): Promise<RustToolchain> {
  if (name === 'system') {
    const cargo = join(SYSTEM_RUST_BIN, 'cargo');
    const rustc = join(SYSTEM_RUST_BIN, 'rustc');
    for (const program of [cargo, rustc]) {
      if (!existsSync(program)) {
        throw new MultiarchError(
          `The system Rust toolchain is missing ${program}.`,
          `Install Debian's toolchain (bash tools/setup.sh, or apt-get install rustc-web cargo-web), or set the cargo-cross option "toolchain" to a rustup toolchain name (e.g. "stable") or "path".`,
        );
      }
    }
    return { name, cargo, rustc };
  }
  if (name === 'path') {
    const cargo = which('cargo', env);
    const rustc = which('rustc', env);
    if (!cargo || !rustc) {
      throw new MultiarchError(
        `cargo-cross with toolchain "path" found no ${cargo ? 'rustc' : 'cargo'} on PATH.`,
        `Install a Rust toolchain (apt-get install rustc-web cargo-web, or rustup), put it on PATH, or set "toolchain" to "system".`,
      );
    }
    return { name, cargo, rustc };
  }
  const rustup = which('rustup', env);
  if (!rustup) {
    throw new MultiarchError(
      `cargo-cross toolchain "${name}" is a rustup toolchain name, but rustup is not on PATH.`,
      `Set "toolchain" to "system" (Debian's cargo and rustc) or "path", or install rustup.`,
    );
  }
  const cargo = await rustupWhich(rustup, name, 'cargo', env);
  const rustc = await rustupWhich(rustup, name, 'rustc', env);
  return { name, cargo, rustc };
}

async function rustupWhich(rustup: string, toolchain: string, program: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(rustup, ['which', '--toolchain', toolchain, program], { env: { ...env, RUST_BACKTRACE: '0' } });
  const path = result.stdout.trim();
  if (result.exitCode !== 0 || path === '') {
    throw new MultiarchError(
      `The rustup toolchain "${toolchain}" has no ${program} (rustup: ${firstLine(result.stderr) || 'not installed'}).`,
      `List installed toolchains with "rustup toolchain list", or set the cargo-cross option "toolchain" to "system" (Debian's toolchain).`,
    );
  }
  return path;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * The sysroot of a toolchain, as `rustc --print sysroot` says it. rustc takes
 * the parent of the folder holding its own executable, so that is read from
 * the file system when it holds a `lib/rustlib`, which saves a process on
 * every build; a rustup proxy (~/.cargo/bin/rustc) has none there, and is asked.
 */
export async function rustSysroot(toolchain: RustToolchain, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const root = dirname(dirname(realpathSync(toolchain.rustc)));
    if (existsSync(join(root, 'lib', 'rustlib'))) return root;
  } catch {
    // not a file we can resolve: ask rustc
  }
  const result = await run(toolchain.rustc, ['--print', 'sysroot'], { env });
  if (result.exitCode !== 0) {
    throw new MultiarchError(
      `${toolchain.rustc} --print sysroot failed: ${firstLine(result.stderr)}`,
      `Check the Rust toolchain "${toolchain.name}" (run "${toolchain.rustc} -V").`,
    );
  }
  return result.stdout.trim();
}

/** True when the folder holds a compiled std for the target (`libstd-<hash>.rlib`). */
export function hasRustStd(sysroot: string, triple: string): boolean {
  const libDir = join(sysroot, 'lib', 'rustlib', triple, 'lib');
  try {
    return readdirSync(libDir).some((file) => file.startsWith('libstd-') && file.endsWith('.rlib'));
  } catch {
    return false;
  }
}

/** Throws, naming the fix for this toolchain, when the target std is not installed. */
export async function requireRustStd(
  toolchain: RustToolchain,
  triple: string,
  platform: PlatformSpec,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const sysroot = await rustSysroot(toolchain, env);
  if (hasRustStd(sysroot, triple)) return;
  throw new MultiarchError(
    `The Rust std for ${triple} is not installed in the toolchain "${toolchain.name}" (no ${join(sysroot, 'lib', 'rustlib', triple, 'lib')}/libstd-*.rlib).`,
    rustStdHint(toolchain, triple, platform),
  );
}

export function rustStdHint(toolchain: RustToolchain, triple: string, platform: PlatformSpec): string {
  const other = `or set the cargo-cross option "toolchain" to one that has the ${triple} std`;
  if (toolchain.name === 'system') {
    if (triple === platform.rustTriple && SETUP_SCRIPT_ARCHES.includes(platform.arch)) {
      return (
        `Run "bash tools/setup.sh", which installs Debian's std for the target ` +
        `(libstd-rust-web-dev:${platform.debianArch} of the installed rustc-web's version, unpacked into ${join(SYSTEM_RUST_BIN, '..', 'lib', 'rustlib')}), ${other}.`
      );
    }
    return `Debian 12 packages no Rust std for ${triple}: set the cargo-cross option "toolchain" to a rustup toolchain and run "rustup target add ${triple} --toolchain <name>".`;
  }
  if (toolchain.name === 'path') return `Run "rustup target add ${triple}" for the cargo on PATH, ${other}.`;
  return `Run "rustup target add ${triple} --toolchain ${toolchain.name}", ${other} (e.g. "system" after "bash tools/setup.sh").`;
}

/** Throws when the cross linker is not on PATH, naming the Debian packages that provide it. */
export function requireLinker(linker: string, platform: PlatformSpec, env: NodeJS.ProcessEnv, overridden: boolean): string {
  const found = which(linker, env);
  if (found) return found;
  const fix = overridden
    ? `Install ${linker} or change the "linker" option (the default for ${platform.arch} is ${platform.gccPrefix}-gcc).`
    : `Install the cross linker: apt-get install ${debianGccPackage(platform)} ${debianLibcCrossPackage(platform)}` +
      `${SETUP_SCRIPT_ARCHES.includes(platform.arch) ? ' (or run "bash tools/setup.sh")' : ''}, or set the "linker" option.`;
  throw new MultiarchError(`The linker ${linker} for ${platform.arch} is not on PATH.`, fix);
}

/** Throws when `<prefix>-strip` is not on PATH. */
export function requireStrip(platform: PlatformSpec, env: NodeJS.ProcessEnv): string {
  const strip = `${platform.gccPrefix}-strip`;
  const found = which(strip, env);
  if (found) return found;
  throw new MultiarchError(
    `${strip}, which strips ${platform.arch} binaries, is not on PATH.`,
    `Install it: apt-get install ${debianBinutilsPackage(platform)}${SETUP_SCRIPT_ARCHES.includes(platform.arch) ? ' (or run "bash tools/setup.sh")' : ''}.`,
  );
}

/** Throws when `go` is not on PATH. */
export function requireGo(env: NodeJS.ProcessEnv): string {
  const go = which('go', env);
  if (go) return go;
  throw new MultiarchError('go is not on PATH.', 'Install Go 1.21 or newer (from go.dev, or apt-get install golang-go from bookworm-backports) or put its bin folder on PATH.');
}

/** Throws when cgo's C compiler for the arch is not on PATH, naming the Debian packages that provide it. */
export function requireCCompiler(cc: string, platform: PlatformSpec, env: NodeJS.ProcessEnv, overridden: boolean): string {
  // CC may carry flags ("zig cc -target ..."): the program is its first word.
  const program = cc.trim().split(/\s+/)[0] ?? cc;
  const found = which(program, env);
  if (found) return found;
  const fix = overridden
    ? `Install ${program} or change the C compiler (the go-cross option "cc", else CC; the default for ${platform.arch} is ${platform.gccPrefix}-gcc).`
    : `Install the cross C compiler and C library: apt-get install ${debianGccPackage(platform)} libc6-dev-${platform.debianArch}-cross` +
      `${SETUP_SCRIPT_ARCHES.includes(platform.arch) ? ' (or run "bash tools/setup.sh")' : ''}; or set the go-cross option "cc"; or turn "cgo" off.`;
  throw new MultiarchError(`cgo needs the C compiler ${program} for ${platform.arch}, which is not on PATH.`, fix);
}
