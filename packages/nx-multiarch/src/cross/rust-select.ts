import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';
import { run, which } from '../util/exec';
import { hasRustStd, type RustToolchain } from './toolchain-preflight';
import { meetsPin, parseRustcVersion, pinRequirement, type RustcVersion, type RustPin } from './rust-pin';

/**
 * Chooses the Rust toolchain that meets a project's pin (rust-toolchain.toml)
 * and has the target's std: one of rustup's toolchains, or Debian's
 * /usr/bin/rustc. On this kind of machine rustup cannot download a target
 * std, so a rustup toolchain of the right version is often the wrong choice
 * for a cross build while Debian's of the same version is the right one;
 * versions, not names, decide.
 */
export interface RustCandidate extends RustToolchain {
  /** Where the toolchain lives; its target std libraries are under lib/rustlib/<triple>. */
  sysroot: string;
  /** `debian` for /usr/bin, else rustup. */
  source: 'debian' | 'rustup';
  version?: RustcVersion;
}

const DEBIAN_PREFIX = '/usr';

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `<name> [(active, default)] <path>` lines of `rustup toolchain list -v`. */
export function parseRustupList(text: string): Array<{ name: string; path: string }> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const parts = line.split(/\s+/);
      return { name: parts[0], path: parts[parts.length - 1] };
    })
    .filter((t) => t.path.startsWith('/'));
}

async function versionOf(rustc: string, env: NodeJS.ProcessEnv): Promise<RustcVersion | undefined> {
  try {
    const result = await run(rustc, ['-V'], { env: { ...env, RUSTUP_TOOLCHAIN: undefined }, timeoutMs: 30_000 });
    return result.exitCode === 0 ? parseRustcVersion(result.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** Debian's toolchain with its version, if installed. */
export async function debianCandidate(env: NodeJS.ProcessEnv): Promise<RustCandidate | undefined> {
  const rustc = join(DEBIAN_PREFIX, 'bin', 'rustc');
  const cargo = join(DEBIAN_PREFIX, 'bin', 'cargo');
  if (!existsSync(rustc) || !existsSync(cargo)) return undefined;
  const version = await versionOf(rustc, env);
  return { name: 'system', cargo, rustc, sysroot: DEBIAN_PREFIX, source: 'debian', ...(version ? { version } : {}) };
}

/** Every toolchain on this machine: Debian's first, then rustup's (a rustup link to /usr is Debian's, listed once). */
export async function rustCandidates(env: NodeJS.ProcessEnv): Promise<RustCandidate[]> {
  const [debian, rustupOnes] = await Promise.all([debianCandidate(env), rustupCandidates(env)]);
  return [...(debian ? [debian] : []), ...rustupOnes];
}

async function rustupCandidates(env: NodeJS.ProcessEnv): Promise<RustCandidate[]> {
  const found: RustCandidate[] = [];
  const rustup = which('rustup', env);
  if (rustup) {
    const listed = await run(rustup, ['toolchain', 'list', '-v'], { env, timeoutMs: 30_000 }).catch(() => undefined);
    for (const toolchain of listed && listed.exitCode === 0 ? parseRustupList(listed.stdout) : []) {
      if (realpathOrSelf(toolchain.path) === realpathOrSelf(DEBIAN_PREFIX)) continue;
      const rustc = join(toolchain.path, 'bin', 'rustc');
      const cargo = join(toolchain.path, 'bin', 'cargo');
      if (existsSync(rustc) && existsSync(cargo)) found.push({ name: toolchain.name, cargo, rustc, sysroot: toolchain.path, source: 'rustup' });
    }
  }
  const versions = await Promise.all(found.map((c) => versionOf(c.rustc, env)));
  return found.map((c, i) => ({ ...c, ...(versions[i] ? { version: versions[i] } : {}) }));
}

function describe(candidate: RustCandidate): string {
  const what = candidate.source === 'debian' ? `Debian's rustc ${candidate.version?.text ?? '(version unknown)'} (${join(DEBIAN_PREFIX, 'bin')})` : `rustup "${candidate.name}" (${candidate.version?.text ?? 'version unknown'})`;
  return what;
}

/** "Debian's rustc 1.85.0 (/usr/bin), rustup "stable" (1.95.0)", or "none". */
export function describeInstalled(candidates: readonly RustCandidate[]): string {
  return candidates.length === 0 ? 'no Rust toolchain' : candidates.map(describe).join(', ');
}

/** The rustup name of a channel pin without its host part, for commands (`1.85.0`, `nightly-2025-01-01`). */
function pinForCommand(channel: string): string {
  return channel.replace(/-(x86_64|aarch64|i686|armv7|powerpc64le|s390x|riscv64gc)-.*$/, '');
}

/**
 * The toolchain for `triple` under `pin`: among those that meet the pin, the
 * first with the target's std (Debian's before rustup's, since only Debian
 * ships foreign std libraries here). Errors name the pin, what is installed
 * and the command that fixes it.
 */
export function chooseForPin(
  candidates: readonly RustCandidate[],
  pin: RustPin,
  triple: string,
  platform: PlatformSpec,
): RustCandidate {
  const requirement = pinRequirement(pin.channel, pin.file);
  const meeting = candidates.filter((c) => c.version !== undefined && meetsPin(c.version, requirement));
  const installed = describeInstalled(candidates);
  const channel = pinForCommand(pin.channel);
  const debian = candidates.find((c) => c.source === 'debian');
  const debianHas = debian && hasRustStd(debian.sysroot, triple);
  if (meeting.length === 0) {
    const repin = debian?.version && debianHas ? ` or pin Debian's release (channel = "${debian.version.text}" in ${pin.file}), which has the ${triple} std;` : '';
    throw new MultiarchError(
      `${pin.file} pins Rust "${pin.channel}", and no installed toolchain is that release. Installed: ${installed}.`,
      `Install it with the target std: "rustup toolchain install ${channel} --target ${triple}" (needs rustup's download server),${repin} ` +
        `or set the cargo-cross option "toolchain" to use another toolchain regardless of the pin.`,
    );
  }
  const withStd = meeting.find((c) => hasRustStd(c.sysroot, triple));
  if (withStd) return withStd;
  const chosen = meeting[0];
  const fix =
    chosen.source === 'debian'
      ? `Run "bash tools/setup.sh" (it unpacks Debian's libstd-rust-web-dev:${platform.debianArch} of the same version into ${join(DEBIAN_PREFIX, 'lib', 'rustlib')})`
      : `Run "rustup target add ${triple} --toolchain ${chosen.name}" (needs rustup's download server)`;
  const other = debian && debian !== chosen && debianHas && debian.version ? `, or pin Debian's ${debian.version.text} (channel = "${debian.version.text}" in ${pin.file}), which has it` : '';
  throw new MultiarchError(
    `${pin.file} pins Rust "${pin.channel}", met by ${describe(chosen)}, which has no std for ${triple} ` +
      `(no ${join(chosen.sysroot, 'lib', 'rustlib', triple, 'lib')}/libstd-*.rlib). Installed: ${installed}.`,
    `${fix}${other}.`,
  );
}

/** chooseForPin, but `undefined` instead of an error (for a first look at some of the toolchains). */
export function chooseForPinOrNothing(candidates: readonly RustCandidate[], pin: RustPin, triple: string, platform: PlatformSpec): RustCandidate | undefined {
  try {
    return chooseForPin(candidates, pin, triple, platform);
  } catch {
    return undefined;
  }
}
