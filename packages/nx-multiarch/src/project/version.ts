import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCargoManifest } from './cargo-manifest';

/**
 * The one rule for a project's version, used for the image's
 * org.opencontainers.image.version label and for manifest-push's default tag:
 * the explicit option, else the project's package.json `version`, else its
 * Cargo.toml `[package] version`. `0.0.0` (npm init's placeholder) and an
 * empty string mean "no version", so they fall through rather than label or
 * tag an image 0.0.0.
 */
export const UNSET_VERSIONS: ReadonlySet<string> = new Set(['', '0.0.0']);

function meaningful(version: unknown): string | undefined {
  if (typeof version !== 'string') return undefined;
  const trimmed = version.trim();
  return UNSET_VERSIONS.has(trimmed) ? undefined : trimmed;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

function packageJsonVersion(text: string): unknown {
  try {
    return (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    // A package.json that is not JSON is not ours to judge here: fall through to Cargo.toml.
    return undefined;
  }
}

/** The version of the project at `projectDir` (absolute), or undefined when it has none. */
export async function projectVersion(projectDir: string, option?: string): Promise<string | undefined> {
  const fromOption = meaningful(option);
  if (fromOption) return fromOption;
  const pkg = await readText(join(projectDir, 'package.json'));
  const fromPackage = pkg === undefined ? undefined : meaningful(packageJsonVersion(pkg));
  if (fromPackage) return fromPackage;
  const cargoPath = join(projectDir, 'Cargo.toml');
  const cargo = await readText(cargoPath);
  return cargo === undefined ? undefined : meaningful(parseCargoManifest(cargo, cargoPath).package?.version);
}
