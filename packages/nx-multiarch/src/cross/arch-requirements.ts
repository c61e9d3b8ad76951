import { MultiarchError } from '../errors';
import { PLATFORMS, type Arch, type PlatformSpec } from '../platform/platforms';

/**
 * What a machine needs installed before the plugin's tasks can build and test
 * one arch. The preflight checks (cross/toolchain-preflight.ts, integration/) name
 * these packages in their hints, and `nx-multiarch setup --print` installs
 * them, so a CI workflow asks the plugin instead of keeping a second list.
 *
 * Package names are Debian's, which Ubuntu (GitHub's and GitLab's hosted
 * runners) shares for all of these.
 */

/** The Debian package that ships every `qemu-<arch>-static`. */
export const QEMU_USER_PACKAGE = 'qemu-user-static';

/**
 * The Debian package that provides `<prefix>-gcc`. Debian spells x86_64 as
 * x86-64 in package names; on an amd64 host the native gcc provides it too.
 */
export function debianGccPackage(platform: PlatformSpec): string {
  return `gcc-${platform.gccPrefix.replace(/_/g, '-')}`;
}

/** The Debian package that provides `<prefix>-strip`. */
export function debianBinutilsPackage(platform: PlatformSpec): string {
  return `binutils-${platform.gccPrefix.replace(/_/g, '-')}`;
}

/** The target's C library and start files, which linking a Rust gnu binary needs. */
export function debianLibcCrossPackage(platform: PlatformSpec): string {
  return `libc6-dev-${platform.debianArch}-cross`;
}

/** Which of the plugin's tasks a machine runs for the arch. */
export interface RequirementsRequest {
  /** The arch the tasks build and test. */
  arch: Arch;
  /** The arch of the machine that runs them (the CI runner). */
  hostArch: Arch;
  /** A rustup toolchain name (`stable`, `1.82.0`) when the workspace has Cargo packages; none when it has no Rust. */
  rustToolchain?: string;
  /** True when arch-integration runs there (false for a build-only machine). */
  integration: boolean;
}

export interface ArchRequirements {
  arch: Arch;
  hostArch: Arch;
  /** Debian packages, in a fixed order. */
  aptPackages: string[];
  /** rustup toolchain and the targets to add to it; none without Rust. */
  rust?: { toolchain: string; targets: string[] };
  /** Why each package or target is there, one line each, for the printed script. */
  reasons: string[];
}

/** A rustup toolchain name: a channel, a version, or a custom name; nothing a shell would read. */
const RUSTUP_TOOLCHAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkRustupToolchain(name: string): string {
  if (name === 'system' || name === 'path') {
    throw new MultiarchError(
      `The Rust toolchain "${name}" is not one rustup can install: "system" is Debian's rustc with foreign std libraries copied in by tools/setup.sh, and "path" is whatever is on PATH.`,
      'Give a rustup toolchain name (e.g. stable or 1.82.0) and set the cargo-cross option "toolchain" to the same name, so CI builds with what it installed.',
    );
  }
  if (!RUSTUP_TOOLCHAIN.test(name)) {
    throw new MultiarchError(`Invalid Rust toolchain name "${name}".`, 'Give a rustup toolchain name such as stable, beta or 1.82.0.');
  }
  return name;
}

/**
 * Everything one arch needs on one host:
 * - Go: nothing per arch (CGO_ENABLED=0 cross-compiles with the host's go).
 * - Rust: the target std (rustup), and the target's gcc as linker, binutils
 *   for strip, and the target's libc start files; a native host's own gcc
 *   and binutils provide `<prefix>-gcc` and `<prefix>-strip`.
 * - Integration tests: qemu-user. On a machine of the arch itself the qemu
 *   runner starts static programs natively, with no emulation
 *   (integration/runners/qemu.ts); a dynamically linked program still goes
 *   through qemu's -L so that it loads the image's libraries, not the host's.
 */
export function archRequirements(request: RequirementsRequest): ArchRequirements {
  const platform = PLATFORMS[request.arch];
  const native = request.arch === request.hostArch;
  const aptPackages: string[] = [];
  const reasons: string[] = [];
  let rust: ArchRequirements['rust'];
  if (request.rustToolchain !== undefined) {
    const toolchain = checkRustupToolchain(request.rustToolchain);
    rust = { toolchain, targets: [platform.rustTriple] };
    reasons.push(`cargo-cross: the ${platform.rustTriple} std for the rustup toolchain ${toolchain}`);
    if (native) {
      aptPackages.push('gcc', 'binutils');
      reasons.push(`cargo-cross: gcc and binutils of this ${request.arch} host provide ${platform.gccPrefix}-gcc (linker) and ${platform.gccPrefix}-strip`);
    } else {
      aptPackages.push(debianGccPackage(platform), debianBinutilsPackage(platform), debianLibcCrossPackage(platform));
      reasons.push(`cargo-cross: ${platform.gccPrefix}-gcc links, ${platform.gccPrefix}-strip strips, and the ${platform.debianArch} libc start files`);
    }
  }
  if (request.integration && !native) {
    aptPackages.push(QEMU_USER_PACKAGE);
    reasons.push(`arch-integration: ${platform.qemu}-static runs the ${request.arch} images on this ${request.hostArch} host`);
  }
  if (request.integration && native) {
    // Still installed: a dynamically linked program (the cache-server image's Node.js) needs qemu's -L
    // to load the image's libraries instead of the host's, even on its own arch.
    aptPackages.push(QEMU_USER_PACKAGE);
    reasons.push(`arch-integration: this host is ${request.arch}, so static programs run natively, without qemu; ${platform.qemu}-static only loads dynamically linked ones with the image's libraries`);
  }
  return { arch: request.arch, hostArch: request.hostArch, aptPackages, ...(rust ? { rust } : {}), reasons };
}
