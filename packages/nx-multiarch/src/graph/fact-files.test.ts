import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { factFileHashes, FileIndex, moduleGoFiles, ownFactFiles, type FileData } from './fact-files';
import { factInputGlobs } from './nodes-memo';
import { findGoModuleRoot } from '../project/go-module';

/**
 * The createNodes memo picks each project's fact files from Nx's file list;
 * they must be exactly the files Nx's own glob matching finds for the globs
 * of factInputGlobs, or an edit could leave a stale result in the memo.
 */
process.env.NX_DAEMON = 'false';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const context = require('nx/src/utils/workspace-context') as {
  getAllFileDataInContext(root: string): Promise<FileData[]>;
  multiGlobWithWorkspaceContext(root: string, globs: string[]): Promise<string[][]>;
  resetWorkspaceContext(): void;
};

const FILES = [
  'go.work',
  '.gitignore',
  'svc/go.mod',
  'svc/lib/lib.go',
  'svc/lib/assets/index.html',
  'svc/cmd/api/main.go',
  'svc/cmd/api/Dockerfile',
  'svc/cmd/api/.env',
  'svc/cmd/api/integration/api.test.ts',
  'svc/cmd/api/integration/fixtures/a.json',
  'svc/cmd/web/main.go',
  'svc/cmd/web/project.json',
  'svc/cmd/web/web_test.go',
  'svc/tools/gen/go.mod',
  'svc/tools/gen/main.go',
  'rust/Cargo.toml',
  'rust/Cargo.lock',
  'rust/crates/proxy/Cargo.toml',
  'rust/crates/proxy/Dockerfile',
  'rust/crates/proxy/src/main.rs',
  'rust/crates/proxy/src/lib.rs',
  'rust/crates/proxy/src/bin/tool.rs',
  'rust/crates/proxy/src/bin/admin/main.rs',
  'rust/crates/proxy/tests/t.rs',
  'main.go',
  'Dockerfile',
  'ignored/main.go',
];
const ROOTS = ['', 'svc/cmd/api', 'svc/cmd/web', 'svc/tools/gen', 'rust/crates/proxy', 'svc/lib'];

let workspace: string;

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'nxm-fact-files-'));
  for (const file of FILES) {
    await mkdir(dirname(join(workspace, file)), { recursive: true });
    await writeFile(join(workspace, file), file === '.gitignore' ? 'ignored/\n' : `// ${file}\n`);
  }
});
afterAll(async () => {
  context.resetWorkspaceContext();
  await rm(workspace, { recursive: true, force: true });
});

test('each root gets exactly the files the globs of factInputGlobs match', async () => {
  const index = new FileIndex(await context.getAllFileDataInContext(workspace));
  for (const root of ROOTS) {
    const matched = new Set((await context.multiGlobWithWorkspaceContext(workspace, factInputGlobs(workspace, root))).flat());
    const moduleRoot = findGoModuleRoot(workspace, root);
    const picked = new Set([...ownFactFiles(index, root), ...(moduleRoot !== undefined ? moduleGoFiles(index, moduleRoot) : [])].map((f) => f.file));
    expect({ root, files: [...picked].sort() }).toEqual({ root, files: [...matched].sort() });
  }
});

test('an edit changes the hash of exactly the projects that read the file', async () => {
  const files = await context.getAllFileDataInContext(workspace);
  const before = factFileHashes(workspace, files, ROOTS);
  const edit = (path: string) => factFileHashes(workspace, files.map((f) => (f.file === path ? { ...f, hash: `${f.hash}-edited` } : f)), ROOTS);
  const changed = (after: string[]) => ROOTS.filter((_, i) => after[i] !== before[i]);
  // A package of the module: every main of the module (its embeds may change), not the nested module or Rust.
  expect(changed(edit('svc/lib/lib.go'))).toEqual(['svc/cmd/api', 'svc/cmd/web', 'svc/lib']);
  // Integration tests of one project; a Rust binary of one crate; the Cargo workspace manifest above it.
  expect(changed(edit('svc/cmd/api/integration/fixtures/a.json'))).toEqual(['svc/cmd/api']);
  expect(changed(edit('rust/crates/proxy/src/bin/admin/main.rs'))).toEqual(['rust/crates/proxy']);
  expect(changed(edit('rust/Cargo.toml'))).toEqual(['rust/crates/proxy']);
  // A file no fact is read from.
  expect(changed(edit('rust/crates/proxy/tests/t.rs'))).toEqual([]);
});
