import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import importRepoGenerator from '../../src/generators/import-repo/generator';
import { linkerd2Shape, proxyShape, type RepoFiles } from '../support/repo-shapes';
import { NX_TEST_ENV } from '../support/nx-env';

/**
 * Repositories cloned under vendor/ of a workspace, before and after an
 * in-place import, through real Nx (`nx show projects`): Nx refuses two
 * projects of one name before any command or generator runs, so this is the
 * check a user meets first. The plugin is loaded from its TypeScript source.
 */
jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..', '..', '..');
const NX = join(REPO, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const PLUGIN = join(REPO, 'packages', 'nx-multiarch', 'src', 'index.ts');
const run = promisify(execFile);

let ws: string;

function writeRepo(root: string, files: RepoFiles): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(ws, root, path)), { recursive: true });
    writeFileSync(join(ws, root, path), content);
  }
}

async function nx<T>(args: string[]): Promise<T> {
  // No daemon and no graph cache left from the run before: each call computes the graph.
  rmSync(join(ws, '.nx'), { recursive: true, force: true });
  const { stdout } = await run(process.execPath, [NX, ...args], { cwd: ws, env: { ...process.env, ...NX_TEST_ENV, NX_PREFER_NODE_STRIP_TYPES: 'false' }, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout.slice(stdout.search(/[[{]/))) as T;
}

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'nxm-in-place-'));
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'in-place', private: true }));
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ plugins: [{ plugin: PLUGIN, options: { arches: ['amd64', 'arm64'] } }] }));
  symlinkSync(join(REPO, 'node_modules'), join(ws, 'node_modules'));
  // Nx transpiles a plugin given as a .ts file where the workspace has a root tsconfig.
  writeFileSync(join(ws, 'tsconfig.base.json'), JSON.stringify({ compilerOptions: {} }));
  writeRepo('vendor/linkerd2', linkerd2Shape());
  writeRepo('vendor/linkerd2-proxy', proxyShape({ crates: 12, filesPerCrate: 2, fuzzEvery: 4 }));
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

it('computes the graph with three cmd folders under vendor/ before any import, infers no devcontainer or fuzz crate', async () => {
  const projects = await nx<string[]>(['show', 'projects', '--json']);
  // The crate and the image folder above it share a name too: both are named by their path.
  expect(projects).toEqual(expect.arrayContaining(['controller-cmd', 'metrics-api-cmd', 'tap-cmd', 'linkerd2-proxy-linkerd2-proxy', 'vendor-linkerd2-proxy']));
  expect(projects.filter((p) => /fuzz|devcontainer/.test(p))).toEqual([]);
});

it('after the in-place imports: only the imported projects, the CLI with release assets and no manifest-push', async () => {
  // The plugin entry names the source file; the generator registers nothing new but the imported repositories.
  for (const source of ['vendor/linkerd2', 'vendor/linkerd2-proxy']) {
    const tree = new FsTree(ws, false);
    await importRepoGenerator(tree, { source, skipFormat: true });
    flushChanges(ws, tree.listChanges());
  }
  // The generator registers the plugin by its package name (what users have); this workspace loads it from source.
  const nxJson = JSON.parse(readFileSync(join(ws, 'nx.json'), 'utf8')) as { plugins: Array<{ plugin: string; options: Record<string, unknown> }> };
  const written = nxJson.plugins.find((p) => p.plugin === 'nx-multiarch');
  expect(written?.options.importedRepositories).toEqual(['vendor/linkerd2', 'vendor/linkerd2-proxy']);
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ plugins: [{ plugin: PLUGIN, options: { arches: ['amd64', 'arm64'], importedRepositories: written?.options.importedRepositories } }] }));

  const projects = await nx<string[]>(['show', 'projects', '--json']);
  expect(projects.sort()).toEqual([
    'linkerd2-cli',
    'linkerd2-controller',
    'linkerd2-controller-image',
    'linkerd2-metrics-api',
    'linkerd2-metrics-api-image',
    'linkerd2-proxy',
    'linkerd2-proxy-image',
    'linkerd2-tap',
    'linkerd2-tap-image',
    'linkerd2-web',
  ]);
  const cli = await nx<{ targets: Record<string, { options?: Record<string, unknown> }> }>(['show', 'project', 'linkerd2-cli', '--json']);
  expect(Object.keys(cli.targets).sort()).toEqual(
    ['cli-assets', 'cli-darwin-amd64', 'cli-darwin-arm64', 'cli-windows-amd64', 'cli-windows-arm64', 'go-cross', 'go-cross--amd64', 'go-cross--arm64'].sort(),
  );
  expect(cli.targets['go-cross--arm64'].options).toMatchObject({ arch: 'arm64', releaseName: 'linkerd2-cli' });
  const image = await nx<{ targets: Record<string, unknown> }>(['show', 'project', 'linkerd2-controller-image', '--json']);
  expect(Object.keys(image.targets)).toEqual(expect.arrayContaining(['docker-arch-build--arm64', 'manifest-push']));
});
