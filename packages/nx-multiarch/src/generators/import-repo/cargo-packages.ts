import { posix } from 'node:path';
import { generatorError } from '../support/generator-error';
import { globToRegExp, matchesAnyGlob } from '../../util/path-glob';
import { dirOf, joinPath, type RepoFiles } from './repo-files';
import { parseToml, tomlString, tomlStrings, TomlSyntaxError, type TomlDocument, type TomlValue } from './toml';

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

interface Manifest {
  dir: string;
  doc: TomlDocument;
}

function readManifest(repo: RepoFiles, file: string): Manifest {
  try {
    return { dir: dirOf(file), doc: parseToml(repo.read(file)) };
  } catch (error) {
    if (error instanceof TomlSyntaxError) {
      throw generatorError(`Cannot read ${file}: ${error.message}.`, 'Fix the manifest (cargo metadata shows the same problem), or leave that folder out with --exclude.');
    }
    throw error;
  }
}

function isFalse(value: TomlValue | undefined): boolean {
  return value === false;
}

/** Binary targets as Cargo finds them: [[bin]] entries, then src/main.rs and src/bin/ unless autobins = false. */
export function cargoBinaries(manifest: Manifest, repo: RepoFiles): string[] {
  const pkg = manifest.doc.tables.get('package');
  const name = tomlString(pkg, 'name');
  const bins = new Set<string>();
  for (const bin of manifest.doc.arrays.get('bin') ?? []) {
    const binName = tomlString(bin, 'name');
    if (binName) bins.add(binName);
  }
  if (!isFalse(pkg?.autobins)) {
    const src = joinPath(manifest.dir, 'src');
    if (name && repo.has(joinPath(src, 'main.rs'))) bins.add(name);
    const binDir = joinPath(src, 'bin');
    for (const file of repo.files) {
      if (!file.startsWith(`${binDir}/`)) continue;
      const rest = file.slice(binDir.length + 1).split('/');
      if (rest.length === 1 && rest[0].endsWith('.rs')) bins.add(rest[0].slice(0, -3));
      if (rest.length === 2 && rest[1] === 'main.rs') bins.add(rest[0]);
    }
  }
  return [...bins].sort();
}

export function findCargoBinaryPackages(repo: RepoFiles): CargoBinaryPackage[] {
  const manifests = repo.files.filter((f) => posix.basename(f) === 'Cargo.toml').map((f) => readManifest(repo, f));

  // Each [workspace] claims its members (globs allowed) minus its exclude list.
  const cargoRootOf = new Map<string, string>();
  for (const ws of manifests.filter((m) => m.doc.tables.has('workspace'))) {
    const table = ws.doc.tables.get('workspace');
    const members = tomlStrings(table, 'members').map(globToRegExp);
    const exclude = tomlStrings(table, 'exclude').map(globToRegExp);
    if (ws.doc.tables.has('package')) cargoRootOf.set(ws.dir, ws.dir);
    for (const m of manifests) {
      const inside = posix.relative(ws.dir, m.dir);
      if (inside === '' || inside.startsWith('..')) continue;
      if (matchesAnyGlob(inside, members) && !matchesAnyGlob(inside, exclude)) cargoRootOf.set(m.dir, ws.dir);
    }
  }

  const packages: CargoBinaryPackage[] = [];
  for (const m of manifests) {
    const name = tomlString(m.doc.tables.get('package'), 'name');
    if (!name) continue;
    const bins = cargoBinaries(m, repo);
    if (bins.length === 0) continue;
    packages.push({ dir: m.dir, name, bins, cargoRoot: cargoRootOf.get(m.dir) ?? m.dir });
  }
  return packages.sort((a, b) => a.dir.localeCompare(b.dir));
}
