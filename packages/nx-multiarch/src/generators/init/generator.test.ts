import { readNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import initGenerator from './generator';

function ourEntries(tree: Tree) {
  return (readNxJson(tree)?.plugins ?? []).filter((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-multiarch');
}

describe('init generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  it('registers the plugin with the default arches', async () => {
    await initGenerator(tree, { skipFormat: true });
    expect(ourEntries(tree)).toEqual([{ plugin: 'nx-multiarch', options: { arches: ['amd64', 'arm64', 'arm'] } }]);
  });

  it('is idempotent: a second run adds no second entry and keeps the options', async () => {
    await initGenerator(tree, { arches: 'arm64,amd64', registry: 'ghcr.io/linkerd', skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    expect(ourEntries(tree)).toEqual([{ plugin: 'nx-multiarch', options: { arches: ['arm64', 'amd64'], registry: 'ghcr.io/linkerd' } }]);
  });

  it('normalises the options given and updates an existing entry with them', async () => {
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { arches: ['x86_64', 'aarch64', 'linux/arm/v7'], engine: 'native', repositoryPrefix: '/linkerd/', tagScheme: 'git-sha', registry: 'https://127.0.0.1:5000/', skipFormat: true });
    expect(ourEntries(tree)).toEqual([
      {
        plugin: 'nx-multiarch',
        options: { arches: ['amd64', 'arm64', 'arm'], engine: 'native', repositoryPrefix: 'linkerd', tagScheme: 'git-sha', registry: '127.0.0.1:5000' },
      },
    ]);
  });

  it('turns a plain string entry into one with options, without duplicating it', async () => {
    const nxJson = JSON.parse(tree.read('nx.json', 'utf-8') ?? '{}');
    tree.write('nx.json', JSON.stringify({ ...nxJson, plugins: ['nx-multiarch'] }));
    await initGenerator(tree, { arches: 'arm64', skipFormat: true });
    expect(ourEntries(tree)).toEqual([{ plugin: 'nx-multiarch', options: { arches: ['arm64'] } }]);
  });

  it('keeps other plugins in place', async () => {
    const nxJson = JSON.parse(tree.read('nx.json', 'utf-8') ?? '{}');
    tree.write('nx.json', JSON.stringify({ ...nxJson, plugins: [{ plugin: '@nx/docker', options: {} }] }));
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)?.plugins?.map((p) => (typeof p === 'string' ? p : p.plugin))).toEqual(['@nx/docker', 'nx-multiarch']);
  });

  it('adds the named inputs the inferred targets use, keeping existing definitions', async () => {
    const nxJson = JSON.parse(tree.read('nx.json', 'utf-8') ?? '{}');
    tree.write('nx.json', JSON.stringify({ ...nxJson, namedInputs: { default: ['{projectRoot}/src/**/*'] } }));
    await initGenerator(tree, { skipFormat: true });
    const namedInputs = readNxJson(tree)?.namedInputs ?? {};
    expect(namedInputs.default).toEqual(['{projectRoot}/src/**/*']);
    expect(namedInputs.production).toEqual(expect.arrayContaining(['default', '!{projectRoot}/**/*_test.go']));
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)?.namedInputs).toEqual(namedInputs);
  });

  it('adds dist and the Nx cache to .gitignore once, keeping existing lines', async () => {
    tree.write('.gitignore', 'node_modules\n/dist/\n');
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    const lines = (tree.read('.gitignore', 'utf-8') ?? '').split('\n');
    expect(lines.filter((l) => l.replace(/^\/|\/$/g, '') === 'dist')).toEqual(['/dist/']);
    expect(lines).toContain('node_modules');
    expect(lines).toContain('/.nx/cache');
    expect(lines.filter((l) => l === '/.nx/cache')).toHaveLength(1);
    expect(lines).toContain('/.nx-multiarch');
  });

  it('creates .gitignore when there is none', async () => {
    tree.delete('.gitignore');
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('.gitignore', 'utf-8')).toContain('/dist\n');
  });

  it.each([
    [{ arches: 'amd64,sparc' }, /Unsupported arch "sparc"[\s\S]*hint: Use one of: amd64, arm64, arm/],
    [{ arches: '' }, /No arch given[\s\S]*hint:/],
    [{ registry: 'not a host!' }, /Invalid registry host[\s\S]*hint: Give host\[:port\]/],
    [{ repositoryPrefix: 'Linkerd' }, /Invalid repositoryPrefix "Linkerd"[\s\S]*hint:/],
    [{ engine: 'podman' as never }, /Unknown engine "podman"[\s\S]*hint: Use one of: native, docker, auto/],
  ])('refuses bad input %j with the fix, writing nothing', async (options, message) => {
    const before = tree.listChanges().map((c) => c.path);
    const nxJsonBefore = tree.read('nx.json', 'utf-8');
    await expect(initGenerator(tree, options)).rejects.toThrow(message);
    expect(tree.read('nx.json', 'utf-8')).toBe(nxJsonBefore);
    expect(tree.listChanges().map((c) => c.path)).toEqual(before);
  });

  it('explains that it needs an Nx workspace when nx.json is missing', async () => {
    tree.delete('nx.json');
    await expect(initGenerator(tree, {})).rejects.toThrow(/no nx.json[\s\S]*hint: Run the generator from an Nx workspace/);
    expect(tree.exists('nx.json')).toBe(false);
  });
});
