import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { MultiarchError } from '../errors';

/**
 * The one reader of Cargo.toml: graph inference, import-repo, image labels and
 * default tags all take their facts from here. The TOML itself is parsed by
 * smol-toml (the whole TOML 1.0 grammar: multi-line strings, inline tables,
 * dotted keys); this module only picks the keys the plugin uses, with their
 * types checked, so a manifest Cargo accepts is never refused for syntax it
 * does not need. Builds that need Cargo's own view (features, targets, the
 * license file) still ask `cargo metadata`.
 */
export interface CargoPackage {
  name?: string;
  /** A plain version string; undefined when inherited (`version.workspace = true`) or absent. */
  version?: string;
  /** `autobins = false` turns off src/main.rs and src/bin/ discovery. */
  autobins: boolean;
}

export interface CargoBinTarget {
  name?: string;
  path?: string;
}

export interface CargoWorkspace {
  members: string[];
  exclude: string[];
}

export interface CargoManifest {
  package?: CargoPackage;
  bins: CargoBinTarget[];
  workspace?: CargoWorkspace;
}

type TomlTable = Record<string, unknown>;

function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function stringOf(table: TomlTable, key: string): string | undefined {
  const value = table[key];
  return typeof value === 'string' ? value : undefined;
}

function stringsOf(table: TomlTable, key: string): string[] {
  const value = table[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Parses manifest text; `file` names it in the error a syntax problem raises. */
export function parseCargoManifest(text: string, file = 'Cargo.toml'): CargoManifest {
  let doc: TomlTable;
  try {
    doc = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const where = error.line ? `line ${error.line}, column ${error.column}: ` : '';
      throw new MultiarchError(
        `${file}: ${where}${error.message.split('\n')[0]} (not valid TOML)`,
        `Fix the manifest (\`cargo metadata --manifest-path ${file}\` reports the same problem).`,
      );
    }
    throw error;
  }
  const pkg = isTable(doc.package) ? doc.package : undefined;
  const workspace = isTable(doc.workspace) ? doc.workspace : undefined;
  const bins = Array.isArray(doc.bin) ? doc.bin.filter(isTable) : [];
  return {
    ...(pkg ? { package: { name: stringOf(pkg, 'name'), version: stringOf(pkg, 'version'), autobins: pkg.autobins !== false } } : {}),
    bins: bins.map((bin) => ({ name: stringOf(bin, 'name'), path: stringOf(bin, 'path') })),
    ...(workspace ? { workspace: { members: stringsOf(workspace, 'members'), exclude: stringsOf(workspace, 'exclude') } } : {}),
  };
}

/** Reads and parses a Cargo.toml; undefined when there is no such file. */
export function readCargoManifest(path: string): CargoManifest | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseCargoManifest(text, path);
}

/**
 * Binary targets as Cargo finds them: `[[bin]]` entries, then src/main.rs
 * (named after the package) and src/bin/<name>.rs or src/bin/<name>/main.rs
 * unless `autobins = false`. `srcFiles` are the package's files below src/,
 * relative to it ('main.rs', 'bin/tool.rs').
 */
export function cargoBinaries(manifest: CargoManifest, srcFiles: readonly string[]): string[] {
  const pkg = manifest.package;
  const bins = new Set<string>();
  for (const bin of manifest.bins) if (bin.name) bins.add(bin.name);
  if (pkg && pkg.autobins) {
    if (pkg.name && srcFiles.includes('main.rs')) bins.add(pkg.name);
    for (const file of srcFiles) {
      const parts = file.split('/');
      if (parts[0] !== 'bin') continue;
      if (parts.length === 2 && parts[1].endsWith('.rs')) bins.add(parts[1].slice(0, -3));
      if (parts.length === 3 && parts[2] === 'main.rs') bins.add(parts[1]);
    }
  }
  return [...bins].sort();
}
