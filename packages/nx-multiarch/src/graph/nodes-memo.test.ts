import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContextV2, CreateNodesResult } from '@nx/devkit';

/**
 * The createNodes memo must be keyed by everything the inference reads. A
 * Dockerfile's build context is inferred from where its COPY sources exist
 * (the project's folder, or the repository root), so creating or deleting
 * such a source, with the Dockerfile untouched, must change the inferred
 * context on the next graph computation even with the memo warm.
 */
let workspace: string;
let dataDir: string;
process.env.NX_DAEMON = 'false';

// Nx reads the data folder once, when its module loads: set it before anything loads Nx.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCreateNodes = () => require('./create-nodes') as typeof import('./create-nodes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const workspaceContext = () => require('nx/src/utils/workspace-context') as { resetWorkspaceContext(): void };

async function write(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(workspace, path)), { recursive: true });
  await writeFile(join(workspace, path), text);
}

/** The context option of the inferred docker-arch-build target of `root`, as a fresh graph computation finds it. */
async function inferredContext(root = 'svc'): Promise<unknown> {
  // Each graph computation of a new Nx process starts from a fresh file list.
  workspaceContext().resetWorkspaceContext();
  const [createGlob, createNodes] = loadCreateNodes().createNodesV2;
  expect(createGlob).toContain('Dockerfile');
  const context = { workspaceRoot: workspace, nxJsonConfiguration: {} } as CreateNodesContextV2;
  const [[, result]] = (await createNodes([`${root}/Dockerfile`], undefined, context)) as [string, CreateNodesResult][];
  const target = result.projects?.[root]?.targets?.['docker-arch-build'];
  expect(target).toBeDefined();
  return (target?.options as Record<string, unknown>).context;
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'nxm-nodes-memo-'));
  dataDir = await mkdtemp(join(tmpdir(), 'nxm-nodes-memo-data-'));
  process.env.NX_WORKSPACE_DATA_DIRECTORY = dataDir;
  await write('svc/Dockerfile', 'FROM scratch\nCOPY shared/config.txt /etc/config.txt\nCOPY bin/ /usr/local/bin/\n');
  await write('svc/bin/tool', 'tool\n');
});
afterAll(async () => {
  workspaceContext().resetWorkspaceContext();
  delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
  await rm(workspace, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

test('creating or deleting a COPY source changes the inferred context with the memo warm', async () => {
  // No source anywhere yet: the Dockerfile's own folder.
  expect(await inferredContext()).toBeUndefined();
  expect((await readdir(dataDir)).filter((f) => f.startsWith('nx-multiarch-nodes-'))).toHaveLength(1);
  expect(await inferredContext()).toBeUndefined();

  // Every source exists in the repository root (bin/ too), not all in the project: the repository.
  await write('shared/config.txt', 'root config\n');
  await write('bin/tool', 'tool\n');
  expect(await inferredContext()).toBe('repository');
  expect(await inferredContext()).toBe('repository');

  // All sources now in the project's folder: its own folder again.
  await write('svc/shared/config.txt', 'project config\n');
  expect(await inferredContext()).toBeUndefined();

  // Deleted from the project again: back to the repository.
  await rm(join(workspace, 'svc/shared'), { recursive: true });
  expect(await inferredContext()).toBe('repository');

  // Deleted from the repository root: no folder holds them all.
  await rm(join(workspace, 'shared'), { recursive: true });
  expect(await inferredContext()).toBeUndefined();
});

test('a project.json above the project moves the repository root the sources are looked for in', async () => {
  await write('apps/api/Dockerfile', 'FROM scratch\nCOPY shared/config.txt /etc/config.txt\n');
  await write('shared/config.txt', 'root config\n');
  expect(await inferredContext('apps/api')).toBe('repository');
  // `apps` becomes the outermost project folder, so the repository root of apps/api (context-option.ts), and it has no shared/.
  await write('apps/project.json', '{}\n');
  expect(await inferredContext('apps/api')).toBeUndefined();
  await rm(join(workspace, 'apps/project.json'));
  expect(await inferredContext('apps/api')).toBe('repository');
});
