import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { MultiarchError } from '../errors';
import { sha256FileDigest } from '../oci/digest';
import { PLATFORMS, hostArch, platformString, type Arch, type PlatformSpec } from '../platform/platforms';
import { requireRustStd, requireStrip, resolveRustToolchain, type RustToolchain } from './toolchain-preflight';
import { findRustPin, type RustPin } from './rust-pin';
import { chooseForPin, chooseForPinOrNothing, debianCandidate, rustCandidates } from './rust-select';
import { writeDirAtomically } from '../util/atomic';
import { runChecked } from '../util/exec';
import { checkBinaryArch } from './binary-check';
import { chooseCargoLinker, requireCargoLinker } from './cargo-linker';
import { fetchCrates, requireCargoLock, requireTargetCCompiler } from './cargo-fetch';
import { CargoPackageInfo, readCargoPackage } from './cargo-metadata';
import { CargoCrossOptions, listOption, packageVersion, planCargoBuild, rustTriple } from './cargo-plan';
import { CrossBuildContext, prepareCrossTarget, workspacePath } from './cross-context';
import { createReleasePackage, prewarmCompressor } from './package-tarball';
import { sourceDateEpoch } from '../util/source-date-epoch';

/**
 * cargo-cross: preflight, `cargo build --target`, strip, ELF check, and the
 * Linkerd-shaped package, all into dist/cross/<project>/<arch>/ at once.
 */
export interface CargoCrossResult {
  outDir: string;
  triple: string;
  binaries: string[];
  /** File name of the package tarball, when packaging is on. */
  packageFile?: string;
  packageSha256?: string;
}

/**
 * Where cargo-cross compiles unless told otherwise: ignored by git, apart
 * from the developer's own target/, and one folder per arch. Cargo locks a
 * target folder for a whole build, so in one folder the arches' builds ran
 * one after another: a one-line change took three single-crate rebuilds in
 * a row. Apart, they run side by side, as BuildKit's per-arch cache mounts
 * do; the price is the build scripts and proc-macros compiled once per arch
 * (about 6 CPU s for the Linkerd-shaped proxy).
 */
export function defaultTargetDir(workspaceRoot: string, project: string, arch: Arch): string {
  return join(workspaceRoot, '.nx-multiarch', 'cargo-target', project, arch);
}

export async function buildCargoCross(ctx: CrossBuildContext, options: CargoCrossOptions): Promise<CargoCrossResult> {
  const { platform, outDir } = await prepareCrossTarget(ctx, options.arch, 'cargo-cross');
  const triple = rustTriple(platform, options.libc ?? 'gnu');
  const env = ctx.env;

  // Preflight, cheapest first: every missing piece is named before anything compiles.
  const cwd = workspacePath(ctx, options.cwd);
  const manifestPath = options.manifestPath ? resolve(ctx.workspaceRoot, options.manifestPath) : join(cwd, 'Cargo.toml');
  const { toolchain, pin } = await chooseToolchain(options.toolchain, dirname(manifestPath), ctx.workspaceRoot, triple, platform, env);
  // The user's CARGO_TARGET_<TRIPLE>_LINKER wins over the default; a different "linker" option is a conflict.
  // A relative linker path is cargo's to resolve, from the folder it runs in.
  const chosenLinker = chooseCargoLinker(options.linker, triple, platform, env);
  requireCargoLinker(chosenLinker, platform, env, cwd);
  const { linker } = chosenLinker;
  const strip = requireStrip(platform, env);

  if (!existsSync(manifestPath)) {
    throw new MultiarchError(
      `No Cargo.toml at ${manifestPath}.`,
      'Set the cargo-cross option "cwd" (the package folder) or "manifestPath", relative to the workspace root.',
    );
  }
  // Two independent processes, run side by side (they are most of the executor's own time);
  // a missing std is reported before a metadata problem, as the preflight order says.
  const [std, metadata] = await Promise.allSettled([
    requireRustStd(toolchain, triple, platform, env),
    readCargoPackage(toolchain, manifestPath, env),
  ]);
  if (std.status === 'rejected') throw std.reason;
  if (metadata.status === 'rejected') throw metadata.reason;
  const pkg = metadata.value;
  const bins = chooseBins(pkg, listOption(options.bins));
  const lockPath = requireCargoLock(pkg.cargoWorkspaceRoot, pkg.name, ctx.workspaceRoot);
  requireTargetCCompiler(lockPath, triple, platform, env);
  const packaging = options.package ?? true;
  // Found before compiling, so a missing LICENSE does not cost a build.
  const license = packaging ? licenseFile(pkg, ctx.workspaceRoot) : undefined;
  const { version, from: versionFrom } = packageVersion(options, env, pkg.version);
  const targetDir = options.targetDir ? resolve(ctx.workspaceRoot, options.targetDir) : defaultTargetDir(ctx.workspaceRoot, ctx.project, platform.arch);
  const epoch = sourceDateEpoch(env);
  const plan = planCargoBuild({
    platform,
    triple,
    hostTriple: rustTriple(PLATFORMS[hostArch()], 'gnu'),
    workspaceRoot: ctx.workspaceRoot,
    manifestPath,
    targetDir,
    cargoHome: env.CARGO_HOME ? resolve(env.CARGO_HOME) : join(homedir(), '.cargo'),
    rustc: toolchain.rustc,
    linker,
    profile: options.profile ?? 'release',
    bins,
    features: listOption(options.features),
    staticCrt: options.staticCrt ?? true,
    extraRustflags: [...listOption(env.RUSTFLAGS, /\s+/), ...listOption(options.rustflags, /\s+/)],
    sourceDateEpoch: epoch,
    baseEnv: env,
  });

  ctx.log(
    `cargo-cross: ${pkg.name} ${version}${versionFrom === 'Cargo.toml' ? '' : ` (from ${versionFrom})`} for ${platformString(platform.oci)} (${triple}), toolchain "${toolchain.name}"` +
      `${pin ? ` (meets "${pin.channel}" of ${pin.file})` : ''}, linker ${linker}` +
      `${chosenLinker.source.kind === 'env' ? ` (from ${chosenLinker.source.name})` : ''}`,
  );
  // Crates once for every arch (shared CARGO_HOME); the build below is --offline.
  const fetched = await fetchCrates(toolchain, manifestPath, lockPath, plan.env);
  ctx.log(`  cargo fetch --locked: ${(fetched.ms / 1000).toFixed(2)}s`);
  ctx.log(`  ${toolchain.cargo} ${plan.args.join(' ')}`);
  // The compiler runs in its own process; meanwhile this one warms up the gzip code it needs next.
  if (license !== undefined) setImmediate(prewarmCompressor);
  await runChecked(toolchain.cargo, plan.args, {
    cwd,
    env: plan.env,
    echo: ctx.echo,
    what: `cargo build for ${triple}`,
    hint: 'Read the compiler output above; the preflight found the linker and the std, so this is a build error.',
  });

  return writeDirAtomically(outDir, async (tmp) => {
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; the output folder is an ordinary shared folder
    const binaries: Array<{ name: string; content: Buffer }> = [];
    for (const artifact of plan.artifacts) {
      if (!existsSync(artifact.path)) {
        throw new MultiarchError(`cargo build finished but left no binary at ${artifact.path}.`, 'Check the "bins" and "profile" options.');
      }
      const dest = join(tmp, artifact.name);
      await runChecked(strip, ['-o', dest, artifact.path], { env, what: `${strip} ${artifact.name}` });
      await checkBinaryArch(dest, platform, artifact.name);
      binaries.push({ name: artifact.name, content: await readFile(dest) });
    }
    const result: CargoCrossResult = { outDir, triple, binaries: binaries.map((b) => b.name) };
    if (license !== undefined) {
      const release = await createReleasePackage({
        name: pkg.name,
        version,
        arch: platform.arch,
        license: await readFile(license),
        binaries,
        mtime: epoch,
      });
      await writeFile(join(tmp, release.tarballName), release.tarball);
      await writeFile(join(tmp, release.checksumName), release.checksum);
      result.packageFile = release.tarballName;
      result.packageSha256 = release.sha256;
      ctx.log(`  ${release.tarballName} sha256:${release.sha256}`);
    }
    for (const bin of result.binaries) ctx.log(`  ${bin} ${await sha256FileDigest(join(tmp, bin))}`);
    return result;
  });
}

/**
 * The toolchain option: a name ("system", "path", a rustup toolchain) is
 * used as given; "auto" (the default) honours the package's
 * rust-toolchain.toml / rust-toolchain by version, and is Debian's toolchain
 * when there is no pin.
 */
async function chooseToolchain(
  option: string | undefined,
  packageDir: string,
  workspaceRoot: string,
  triple: string,
  platform: PlatformSpec,
  env: NodeJS.ProcessEnv,
): Promise<{ toolchain: RustToolchain; pin?: RustPin }> {
  if (option !== undefined && option !== 'auto') return { toolchain: await resolveRustToolchain(option, env) };
  const pin = findRustPin(packageDir, workspaceRoot);
  if (!pin) return { toolchain: await resolveRustToolchain('system', env) };
  // Debian's toolchain is the usual answer here (the only one with foreign std
  // libraries): when it meets the pin, rustup's toolchains are not even listed.
  const debian = await debianCandidate(env);
  const quick = debian && chooseForPinOrNothing([debian], pin, triple, platform);
  const chosen = quick || chooseForPin(await rustCandidates(env), pin, triple, platform);
  return { toolchain: { name: chosen.source === 'debian' ? 'system' : chosen.name, cargo: chosen.cargo, rustc: chosen.rustc }, pin };
}

/** The bins to build: the ones asked for (each must exist), or every bin target of the package. */
export function chooseBins(pkg: CargoPackageInfo, wanted: string[]): string[] {
  if (pkg.bins.length === 0) {
    throw new MultiarchError(`The Cargo package ${pkg.name} has no binary targets.`, 'cargo-cross builds executables: add a [[bin]] or src/main.rs.');
  }
  if (wanted.length === 0) return pkg.bins;
  const unknown = wanted.filter((bin) => !pkg.bins.includes(bin));
  if (unknown.length > 0) {
    throw new MultiarchError(
      `The Cargo package ${pkg.name} has no binary named ${unknown.join(', ')}.`,
      `Its binaries are: ${pkg.bins.join(', ')}. Fix the "bins" option.`,
    );
  }
  return wanted;
}

/**
 * LICENSE for the package: Cargo.toml's license-file, else a LICENSE beside it
 * or in any folder above it up to the workspace root (an imported repository
 * keeps its LICENSE at its own root, crates several folders below).
 */
export function licenseFile(pkg: CargoPackageInfo, workspaceRoot: string): string {
  const folders: string[] = [];
  const root = resolve(workspaceRoot);
  for (let dir = resolve(pkg.manifestDir); ; dir = dirname(dir)) {
    folders.push(dir);
    if (dir === root || dirname(dir) === dir || !dir.startsWith(`${root}${sep}`)) break;
  }
  const candidates = [pkg.licenseFile, ...folders.map((d) => join(d, 'LICENSE'))].filter((p): p is string => p !== undefined);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new MultiarchError(
    `No LICENSE for the ${pkg.name} package (looked at ${candidates.join(', ')}).`,
    'Add a LICENSE file beside Cargo.toml, set license-file in Cargo.toml, or set the cargo-cross option "package" to false.',
  );
}
