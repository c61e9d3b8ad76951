import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { cargoBinaries, parseCargoManifest, type CargoManifest } from '../../project/cargo-manifest';
import { workspaceClaims } from '../../project/cargo-workspace';
import { generatorError } from '../support/generator-error';
import { dirOf, joinPath, type RepoFiles } from './repo-files';

/** A Cargo package with at least one binary target: one project, built by cargo-cross. */
export interface CargoBinaryPackage {
  /** Workspace-relative folder of the package's Cargo.toml. */
  dir: string;
  name: string;
  /** Binary target names, sorted. */
  bins: string[];
  /** Folder of the Cargo workspace it belongs to (its own dir when it stands alone). */
  cargoRoot: string;
}

export interface ManifestAt {
  dir: string;
  manifest: CargoManifest;
}

/** A manifest, or the parser's complaint about it (file, line, column). */
function readManifest(repo: RepoFiles, file: string): ManifestAt | { problem: string } {
  try {
    return { dir: dirOf(file), manifest: parseCargoManifest(repo.read(file), file) };
  } catch (error) {
    if (error instanceof MultiarchError) return { problem: error.message };
    throw error;
  }
}

/**
 * Every manifest is read before any is judged, so a repository with several
 * broken ones hears of all of them in one run, each with the parser's line.
 */
function readAllManifests(repo: RepoFiles): ManifestAt[] {
  const read = repo.files.filter((f) => posix.basename(f) === 'Cargo.toml').map((f) => ({ file: f, at: readManifest(repo, f) }));
  const broken = read.flatMap((r) => ('problem' in r.at ? [{ file: r.file, problem: r.at.problem }] : []));
  if (broken.length > 0) {
    const folders = broken.map((b) => posix.relative(repo.root, dirOf(b.file))).filter((f) => f !== '');
    throw generatorError(
      `Cannot read ${broken.length} Cargo.toml file(s); no TOML parser accepts them:\n${broken.map((b) => `  ${b.problem}`).join('\n')}`,
      `Fix each at the line named (\`cargo metadata --manifest-path <file>\` reports the same problem)${folders.length > 0 ? `, or leave them out with --exclude=${folders.join(',')}` : ''}.`,
    );
  }
  return read.map((r) => r.at as ManifestAt);
}

/** The package's binaries, from its manifest and the files below its src/ folder. */
export function binariesOf(at: ManifestAt, repo: RepoFiles): string[] {
  const src = `${joinPath(at.dir, 'src')}/`;
  return cargoBinaries(at.manifest, repo.files.filter((f) => f.startsWith(src)).map((f) => f.slice(src.length)));
}

export function findCargoBinaryPackages(repo: RepoFiles): CargoBinaryPackage[] {
  const manifests = readAllManifests(repo);

  // Each [workspace] claims its members (globs allowed) minus its exclude list.
  const cargoRootOf = new Map<string, string>();
  for (const ws of manifests) {
    const workspace = ws.manifest.workspace;
    if (!workspace) continue;
    if (ws.manifest.package) cargoRootOf.set(ws.dir, ws.dir);
    for (const m of manifests) {
      if (m.dir !== ws.dir && workspaceClaims(workspace, ws.dir, m.dir)) cargoRootOf.set(m.dir, ws.dir);
    }
  }

  const packages: CargoBinaryPackage[] = [];
  for (const m of manifests) {
    const name = m.manifest.package?.name;
    if (!name) continue;
    const bins = binariesOf(m, repo);
    if (bins.length === 0) continue;
    packages.push({ dir: m.dir, name, bins, cargoRoot: cargoRootOf.get(m.dir) ?? m.dir });
  }
  return packages.sort((a, b) => a.dir.localeCompare(b.dir));
}
