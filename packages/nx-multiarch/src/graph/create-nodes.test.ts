import { nodesTestWorkspace, type NodesTestWorkspace } from '../../test/support/nodes-workspace';
import { uniqueProjectNames } from './project-names';

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
  let ws: NodesTestWorkspace;
  const run = async (files: string[], options: Record<string, unknown> = {}) => {
    const projects: Record<string, { name?: string; targets: string[] }> = {};
    for (const [root, p] of Object.entries(await ws.projects(files, options))) projects[root] = { name: p.name, targets: Object.keys(p.targets ?? {}) };
    return projects;
  };

  beforeEach(() => {
    ws = nodesTestWorkspace('nxm-nodes-');
    ws.write({
      'vendor/linkerd2/go.mod': 'module example.com/linkerd2\n',
      'vendor/linkerd2/controller/cmd/main.go': goMain,
      'vendor/linkerd2/viz/tap/cmd/main.go': goMain,
      'vendor/linkerd2/viz/tap/integration/notes.md': 'not a test',
      'vendor/linkerd2/web/main.go': goMain,
      'vendor/linkerd2/web/integration/web.arch.test.ts': '',
      'vendor/linkerd2/.devcontainer/Dockerfile': 'FROM scratch\n',
    });
  });
  afterEach(() => ws.remove());

  const FILES = ['vendor/linkerd2/controller/cmd/main.go', 'vendor/linkerd2/viz/tap/cmd/main.go', 'vendor/linkerd2/web/main.go', 'vendor/linkerd2/.devcontainer/Dockerfile'];

  it('names every project uniquely before anything is imported, and infers no devcontainer or fuzz crate', async () => {
    ws.write({ 'vendor/proxy/linkerd/app/fuzz/Cargo.toml': '[package]\nname = "app-fuzz"\n', 'vendor/proxy/linkerd/app/fuzz/src/main.rs': 'fn main() {}\n' });
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
    ws.write({ 'vendor/linkerd2/web/project.json': JSON.stringify({ name: 'linkerd2-web', targets: { 'go-cross': { executor: 'nx-multiarch:go-cross', options: { cwd: 'vendor/linkerd2', main: ['./web'] } } } }) });
    const projects = await run([...FILES, 'vendor/linkerd2/web/project.json'], { importedRepositories: ['vendor/linkerd2'] });
    expect(Object.keys(projects)).toEqual(['vendor/linkerd2/web']);
    // The project.json names it; inference adds the per-arch variants, never a second name.
    expect(projects['vendor/linkerd2/web'].name).toBeUndefined();
    expect(projects['vendor/linkerd2/web'].targets).toEqual(expect.arrayContaining(['go-cross', 'go-cross--arm64']));
  });
});
