import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';
import { debianGccPackage, type RustToolchain } from './toolchain-preflight';
import { run, which } from '../util/exec';

/**
 * Crates are fetched once, not once per arch: `cargo fetch --locked` (every
 * target's dependencies, into the shared CARGO_HOME; cargo's own package
 * cache lock serialises tasks that run side by side), and every build after
 * it runs `--locked --offline`. A fetch that finds everything present does
 * not touch the network, so the per-arch tasks after the first cost
 * a fraction of a second here.
 */
export interface FetchResult {
  /** Wall time of the fetch, in milliseconds. */
  ms: number;
}

/** Cargo.lock of the cargo workspace the package belongs to; a clear error when there is none. */
export function requireCargoLock(cargoWorkspaceRoot: string, packageName: string, workspaceRoot: string): string {
  const lock = join(cargoWorkspaceRoot, 'Cargo.lock');
  if (existsSync(lock)) return lock;
  throw new MultiarchError(
    `No Cargo.lock for ${packageName} (looked for ${relative(workspaceRoot, lock) || lock}).`,
    `cargo-cross builds with --locked so that every arch compiles the same crate versions: run "cargo generate-lockfile" in ${relative(workspaceRoot, cargoWorkspaceRoot) || '.'} and commit Cargo.lock.`,
  );
}

/** Names of the packages a Cargo.lock lists. */
export function lockedPackages(lockText: string): Set<string> {
  const names = new Set<string>();
  for (const match of lockText.matchAll(/^name = "([^"]+)"$/gm)) names.add(match[1]);
  return names;
}

/** Build-script crates that run a C compiler for the target. */
const C_BUILD_CRATES = ['cc', 'cmake'];

/**
 * When a dependency compiles C for the target (cc-rs or cmake in Cargo.lock),
 * the C compiler it will use must exist: CC_<triple> if the user set it,
 * else the arch's cross gcc. Checked before compiling, so the error names
 * the package to install instead of a build script's panic minutes later.
 */
export function requireTargetCCompiler(lockPath: string, triple: string, platform: PlatformSpec, env: NodeJS.ProcessEnv): void {
  const packages = lockedPackages(readFileSync(lockPath, 'utf8'));
  const user = C_BUILD_CRATES.find((name) => packages.has(name));
  if (!user) return;
  const key = `CC_${triple.replace(/[-.]/g, '_')}`;
  const configured = env[key] ?? env[`CC_${triple}`];
  const cc = configured ?? `${platform.gccPrefix}-gcc`;
  const program = cc.trim().split(/\s+/)[0];
  if (program && which(program, env)) return;
  const install = `apt-get install ${debianGccPackage(platform)} libc6-dev-${platform.debianArch}-cross`;
  throw new MultiarchError(
    `A dependency compiles C for ${triple} (the ${user} crate is in ${lockPath}), but its C compiler ${program} is not on PATH` +
      `${configured !== undefined ? ` (from ${key})` : ''}.`,
    configured !== undefined
      ? `Fix ${key} (unset it to use ${platform.gccPrefix}-gcc), or install the compiler it names.`
      : `Install the cross C compiler: ${install} (or run "bash tools/setup.sh"), or set ${key} to a C compiler for ${triple}.`,
  );
}

/** Runs `cargo fetch --locked`; lockfile and network problems become errors that name the fix. */
export async function fetchCrates(
  toolchain: RustToolchain,
  manifestPath: string,
  lockPath: string,
  env: NodeJS.ProcessEnv,
): Promise<FetchResult> {
  const started = Date.now();
  const result = await run(toolchain.cargo, ['fetch', '--locked', '--manifest-path', manifestPath], {
    env: { ...env, RUSTC: toolchain.rustc },
  });
  if (result.exitCode === 0) return { ms: Date.now() - started };
  const output = result.stderr.trim();
  const tail = output.split('\n').slice(-6).join('\n');
  if (/needs to be updated but --locked was passed|lock file .* needs to be updated/.test(output)) {
    throw new MultiarchError(
      `${lockPath} does not match ${manifestPath}: cargo would have to change the lockfile, and cargo-cross builds --locked.\n${tail}`,
      `Update the lockfile on purpose and commit it: run "cargo update --workspace" (or "cargo generate-lockfile") next to Cargo.toml, with the toolchain the project pins.`,
    );
  }
  if (/failed to (download|get|query|load source|update)|Couldn't resolve|could not (connect|resolve)|network|spurious|timed out|Connection refused/i.test(output)) {
    throw new MultiarchError(
      `cargo fetch could not download the crates in ${lockPath}.\n${tail}`,
      `Check that the crates registry (or the source-replacement in .cargo/config.toml) is reachable, or vendor the crates ("cargo vendor") so builds need no network; ` +
        `CARGO_HOME (${env.CARGO_HOME ?? '~/.cargo'}) holds what was fetched before.`,
    );
  }
  throw new MultiarchError(`cargo fetch --locked failed for ${manifestPath}.\n${tail}`, 'Read cargo\'s message above; run "cargo fetch --locked" in that folder to see it whole.');
}
