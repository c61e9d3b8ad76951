import { dirname, resolve } from 'node:path';
import { MultiarchError } from '../errors';
import { runChecked } from '../util/exec';
import type { RustToolchain } from './toolchain-preflight';

/**
 * What cargo-cross needs to know about a package, from
 * `cargo metadata --no-deps --format-version 1` (cargo's own answer, so no
 * TOML parser to write or keep in step with cargo).
 */
export interface CargoTarget {
  name: string;
  kind: string[];
}

export interface CargoPackageMetadata {
  name: string;
  version: string;
  manifest_path: string;
  license_file: string | null;
  targets: CargoTarget[];
}

export interface CargoMetadata {
  packages: CargoPackageMetadata[];
  workspace_root: string;
}

export interface CargoPackageInfo {
  name: string;
  version: string;
  manifestDir: string;
  /** Names of the package's binary targets. */
  bins: string[];
  /** Absolute path of the license file Cargo.toml names, if any. */
  licenseFile?: string;
  /** The cargo workspace root, where Cargo.lock lives (the package folder for a lone package). */
  cargoWorkspaceRoot: string;
}

/** Picks the package of `manifestPath` from metadata (a cargo workspace lists all its members). */
export function packageFromMetadata(metadata: CargoMetadata, manifestPath: string): CargoPackageInfo {
  const wanted = resolve(manifestPath);
  const pkg = metadata.packages.find((p) => resolve(p.manifest_path) === wanted);
  if (!pkg) {
    throw new MultiarchError(
      `${manifestPath} is not a package manifest (it may be a virtual workspace manifest).`,
      'Point "manifestPath" (or "cwd") at the Cargo.toml of the package that has the binaries.',
    );
  }
  const manifestDir = dirname(wanted);
  return {
    name: pkg.name,
    version: pkg.version,
    manifestDir,
    bins: pkg.targets.filter((t) => t.kind.includes('bin')).map((t) => t.name),
    licenseFile: pkg.license_file ? resolve(manifestDir, pkg.license_file) : undefined,
    cargoWorkspaceRoot: metadata.workspace_root ? resolve(metadata.workspace_root) : manifestDir,
  };
}

export async function readCargoPackage(
  toolchain: RustToolchain,
  manifestPath: string,
  env: NodeJS.ProcessEnv,
): Promise<CargoPackageInfo> {
  const result = await runChecked(
    toolchain.cargo,
    ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', manifestPath],
    {
      env: { ...env, RUSTC: toolchain.rustc },
      what: `cargo metadata for ${manifestPath}`,
      hint: 'Check that Cargo.toml is valid (run "cargo metadata --no-deps" in that folder).',
    },
  );
  return packageFromMetadata(JSON.parse(result.stdout) as CargoMetadata, manifestPath);
}
