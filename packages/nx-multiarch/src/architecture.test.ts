import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/**
 * The plugin's layers point one way (DESIGN section 2, the map in
 * ARCHITECTURE.md): entry points -> features -> engines -> building blocks
 * -> oci -> platform. Every src file's imports (static, `export … from`,
 * `import()`, `require()`) are read with the TypeScript scanner; an import
 * may only reach a module of a LOWER rank. Two modules of the same rank never
 * import each other, which is what keeps image/native and image/docker apart.
 * A new folder fails this test until it gets a rank here and a line in
 * ARCHITECTURE.md.
 */
const RANKS: Readonly<Record<string, number>> = {
  errors: 0,
  platform: 1,
  util: 1,
  oci: 2,
  outputs: 3,
  dockerfile: 3,
  'docker-daemon': 3,
  registry: 3,
  project: 3,
  'image/context': 3,
  debian: 3,
  cross: 4,
  'image/common': 4,
  'image/native': 5,
  'image/docker': 5,
  'supply-chain': 5,
  image: 6,
  publish: 6,
  integration: 6,
  report: 6,
  graph: 7,
  'cache-server': 7,
  setup: 7,
  executors: 8,
  generators: 8,
  index: 8,
  'bench-api': 9,
  'bench-api-image': 9,
};

/** The module a src-relative path belongs to: its top folder, image/ split into its parts, root files by name. */
export function moduleOf(srcRelative: string): string {
  const parts = srcRelative.split('/');
  if (parts.length === 1) return parts[0].replace(/\.ts$/, '');
  if (parts[0] === 'image' && parts.length > 2) return `image/${parts[1]}`;
  return parts[0];
}

export interface ImportEdge {
  /** src-relative path of the importing file. */
  file: string;
  /** src-relative path of the imported file (or folder index). */
  target: string;
}

/** Every import that breaks the direction, as readable lines; empty when the graph is clean. */
export function layerViolations(edges: readonly ImportEdge[], ranks: Readonly<Record<string, number>> = RANKS): string[] {
  const problems = new Set<string>();
  for (const { file, target } of edges) {
    const from = moduleOf(file);
    const to = moduleOf(target);
    if (ranks[from] === undefined) problems.add(`${file}: module "${from}" has no rank; add it to RANKS and to ARCHITECTURE.md`);
    if (ranks[to] === undefined) problems.add(`${target}: module "${to}" has no rank; add it to RANKS and to ARCHITECTURE.md`);
    if (from === to || ranks[from] === undefined || ranks[to] === undefined) continue;
    if (ranks[to] >= ranks[from]) {
      problems.add(`${file} imports ${target}: ${from} (rank ${ranks[from]}) may not import ${to} (rank ${ranks[to]})`);
    }
  }
  return [...problems].sort();
}

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The src-relative file a relative specifier names (a .ts file, or a folder's index.ts). */
function resolveSpecifier(fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [`${base}.ts`, join(base, 'index.ts'), base];
  const found = candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile()) ?? `${base}.ts`;
  return relative(SRC, found).split(sep).join(posix.sep);
}

/**
 * Every relative import of every src file (package imports are not layers).
 * Unit tests may import the shared test helpers under test/, which are not
 * part of the plugin and have no layer.
 */
function importEdges(): ImportEdge[] {
  return sourceFiles(SRC).flatMap((path) => {
    const info = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    const file = relative(SRC, path).split(sep).join(posix.sep);
    return info.importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => ({ file, target: resolveSpecifier(path, i.fileName) }))
      .filter((edge) => !(edge.file.endsWith('.test.ts') && edge.target.startsWith('../test/')));
  });
}

describe('layering', () => {
  it('every import in src points down the layers', () => {
    const edges = importEdges();
    expect(edges.length).toBeGreaterThan(300);
    expect(layerViolations(edges)).toEqual([]);
  });

  it('catches a lower layer importing a higher one (a made-up graph)', () => {
    expect(
      layerViolations([
        { file: 'oci/layout.ts', target: 'image/build-image.ts' },
        { file: 'image/docker/layout.ts', target: 'image/native/engine.ts' },
        { file: 'image/native/engine.ts', target: 'oci/layout.ts' },
        { file: 'oci/layout.ts', target: 'oci/digest.ts' },
      ]),
    ).toEqual([
      'image/docker/layout.ts imports image/native/engine.ts: image/docker (rank 5) may not import image/native (rank 5)',
      'oci/layout.ts imports image/build-image.ts: oci (rank 2) may not import image (rank 6)',
    ]);
  });

  it('asks for a rank for a folder it does not know', () => {
    expect(layerViolations([{ file: 'shiny/thing.ts', target: 'oci/types.ts' }])).toEqual([
      'shiny/thing.ts: module "shiny" has no rank; add it to RANKS and to ARCHITECTURE.md',
    ]);
  });

  it('reads every kind of import statement', () => {
    const info = ts.preProcessFile(
      "import a from './a';\nimport type { B } from './b';\nexport { c } from './c';\nconst d = require('./d');\nconst e = import('./e');\nimport 'node:fs';\n",
      true,
      true,
    );
    expect(info.importedFiles.map((i) => i.fileName)).toEqual(['./a', './b', './c', './d', './e', 'node:fs']);
  });
});
