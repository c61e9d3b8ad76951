import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesResult } from '@nx/devkit';
import { uniqueProjectNames } from './project-names';

type CreateNodesV2 = typeof import('./create-nodes').createNodesV2;

const goMain = 'package main\n\nfunc main() {}\n';

describe('uniqueProjectNames', () => {
  it('keeps unique folder names and names clashing folders by their path, parent by parent', () => {
    const names = uniqueProjectNames(
      [
        { root: 'vendor/linkerd2/controller/cmd', name: 'cmd' },
        { root: 'vendor/linkerd2/viz/metrics-api/cmd', name: 'cmd' },
        { root: 'vendor/linkerd2/viz/tap/cmd', name: 'cmd' },
        { root: 'vendor/linkerd2/web', name: 'web' },
        { root: 'a/x/tool', name: 'tool' },
        { root: 'b/x/tool', name: 'tool' },
      ],
      new Set(['tap-cmd']),
    );
    expect(Object.fromEntries(names)).toEqual({
      'vendor/linkerd2/controller/cmd': 'controller-cmd',
      'vendor/linkerd2/viz/metrics-api/cmd': 'metrics-api-cmd',
      // tap-cmd is a project.json's name: one parent more.
      'vendor/linkerd2/viz/tap/cmd': 'viz-tap-cmd',
      'vendor/linkerd2/web': 'web',
      'a/x/tool': 'a-x-tool',
      'b/x/tool': 'b-x-tool',
    });
  });

  it('numbers what its whole path cannot tell apart (two crates of one name)', () => {
    const names = uniqueProjectNames([
      { root: 'x', name: 'same' },
      { root: 'y/x', name: 'same' },
      { root: 'x/y', name: 'same' },
    ]);
    expect(new Set(names.values()).size).toBe(3);
  });
});

describe('createNodes on a repository dropped under vendor/', () => {
  let ws: string;
  let createNodesV2: CreateNodesV2;
  const write = (files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(ws, path)), { recursive: true });
      writeFileSync(join(ws, path), content);
    }
  };
  const run = async (files: string[], options: Record<string, unknown> = {}) => {
    const results = await createNodesV2[1](files, options, { workspaceRoot: ws, nxJsonConfiguration: {} });
    const projects: Record<string, { name?: string; targets: string[] }> = {};
    for (const [, result] of results as Array<readonly [string, CreateNodesResult]>) {
      for (const [root, p] of Object.entries(result.projects ?? {})) projects[root] = { name: p.name, targets: Object.keys(p.targets ?? {}) };
    }
    return projects;
  };

  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'nxm-nodes-'));
    // The memo is kept in Nx's workspace data folder: a temporary one, read when Nx loads.
    process.env.NX_WORKSPACE_DATA_DIRECTORY = join(ws, '.nx-data');
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      createNodesV2 = (require('./create-nodes') as typeof import('./create-nodes')).createNodesV2;
    });
    write({
      'vendor/linkerd2/go.mod': 'module example.com/linkerd2\n',
      'vendor/linkerd2/controller/cmd/main.go': goMain,
      'vendor/linkerd2/viz/tap/cmd/main.go': goMain,
      'vendor/linkerd2/viz/tap/integration/notes.md': 'not a test',
      'vendor/linkerd2/web/main.go': goMain,
      'vendor/linkerd2/web/integration/web.arch.test.ts': '',
      'vendor/linkerd2/.devcontainer/Dockerfile': 'FROM scratch\n',
    });
  });
  afterEach(() => {
    delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
    rmSync(ws, { recursive: true, force: true });
  });

  const FILES = ['vendor/linkerd2/controller/cmd/main.go', 'vendor/linkerd2/viz/tap/cmd/main.go', 'vendor/linkerd2/web/main.go', 'vendor/linkerd2/.devcontainer/Dockerfile'];

  it('names every project uniquely before anything is imported, and infers no devcontainer or fuzz crate', async () => {
    write({ 'vendor/proxy/linkerd/app/fuzz/Cargo.toml': '[package]\nname = "app-fuzz"\n', 'vendor/proxy/linkerd/app/fuzz/src/main.rs': 'fn main() {}\n' });
    const projects = await run([...FILES, 'vendor/proxy/linkerd/app/fuzz/Cargo.toml']);
    expect(Object.keys(projects).sort()).toEqual(['vendor/linkerd2/controller/cmd', 'vendor/linkerd2/viz/tap/cmd', 'vendor/linkerd2/web']);
    expect(projects['vendor/linkerd2/controller/cmd'].name).toBe('controller-cmd');
    expect(projects['vendor/linkerd2/viz/tap/cmd'].name).toBe('tap-cmd');
    expect(projects['vendor/linkerd2/web'].name).toBe('web');
  });

  it('adds arch-integration only where a *.arch.test.ts exists, not for any integration/ folder', async () => {
    const projects = await run(FILES);
    expect(projects['vendor/linkerd2/web'].targets).toContain('arch-integration');
    expect(projects['vendor/linkerd2/viz/tap/cmd'].targets).not.toContain('arch-integration');
  });

  it('after the import, infers nothing in the repository where the import wrote no project.json', async () => {
    write({ 'vendor/linkerd2/web/project.json': JSON.stringify({ name: 'linkerd2-web', targets: { 'go-cross': { executor: 'nx-multiarch:go-cross', options: { cwd: 'vendor/linkerd2', main: ['./web'] } } } }) });
    const projects = await run([...FILES, 'vendor/linkerd2/web/project.json'], { importedRepositories: ['vendor/linkerd2'] });
    expect(Object.keys(projects)).toEqual(['vendor/linkerd2/web']);
    // The project.json names it; inference adds the per-arch variants, never a second name.
    expect(projects['vendor/linkerd2/web'].name).toBeUndefined();
    expect(projects['vendor/linkerd2/web'].targets).toEqual(expect.arrayContaining(['go-cross', 'go-cross--arm64']));
  });
});
