import { type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse, parseDocument } from 'yaml';
import initGenerator from '../init/generator';
import ciWorkflowGenerator from './generator';
import { actionlint } from '../../../test/support/actionlint';
import { toYaml } from './yaml-text';

const PATH = '.github/workflows/nx-multiarch.yml';

interface ParsedStep {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface ParsedJob {
  'runs-on': string;
  needs?: string;
  if?: string;
  strategy?: { matrix: { include: Array<{ arch: string; runner: string }> } };
  env: Record<string, string>;
  steps: ParsedStep[];
}
interface ParsedWorkflow {
  name: string;
  on: { push: { branches: string[]; tags: string[] }; pull_request: { branches: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, ParsedJob>;
}

function readWorkflow(tree: Tree, path = PATH): ParsedWorkflow {
  const text = tree.read(path, 'utf-8') ?? '';
  const doc = parseDocument(text, { prettyErrors: true });
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  return doc.toJS() as ParsedWorkflow;
}

const TRUSTED = "github.event_name == 'push' && (github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/'))";

describe('ci-workflow generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  it('writes valid YAML with a build matrix over the plugin arches and a publish job', async () => {
    await initGenerator(tree, { arches: 'amd64,arm64,arm', skipFormat: true });
    await ciWorkflowGenerator(tree, { skipFormat: true });
    const wf = readWorkflow(tree);
    expect(Object.keys(wf.jobs)).toEqual(['build', 'publish']);
    expect(wf.on).toEqual({ push: { branches: ['main'], tags: ['*'] }, pull_request: { branches: ['main'] } });
    expect(wf.permissions).toEqual({ contents: 'read' });

    const build = wf.jobs.build;
    // arm64 builds and tests on GitHub's native arm64 runner; the others cross-compile on amd64.
    expect(build.strategy?.matrix.include).toEqual([
      { arch: 'amd64', runner: 'ubuntu-latest' },
      { arch: 'arm64', runner: 'ubuntu-24.04-arm' },
      { arch: 'arm', runner: 'ubuntu-latest' },
    ]);
    expect(build['runs-on']).toBe('${{ matrix.runner }}');
    const runs = build.steps.map((s) => s.run).filter(Boolean);
    expect(runs).toContain('npx nx affected -t docker-arch-build--${{ matrix.arch }} arch-integration--${{ matrix.arch }}');
    expect(build.steps[0]).toEqual({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
    // The plugin installs what the arch needs, after npm ci put it in node_modules.
    const setupAt = build.steps.findIndex((s) => s.run === 'npx nx-multiarch setup --arch "$ARCH"');
    expect(setupAt).toBeGreaterThan(build.steps.findIndex((s) => s.run === 'npm ci'));
    expect(build.steps[setupAt].env).toEqual({ ARCH: '${{ matrix.arch }}' });

    const publish = wf.jobs.publish;
    expect(publish.needs).toBe('build');
    expect(publish.if).toBe(TRUSTED);
    expect(publish.strategy).toBeUndefined();
    const publishRuns = publish.steps.map((s) => s.run ?? '').join('\n');
    // manifest-push depends on the per-arch targets the matrix ran: remote cache hits, no rebuild, no second restore step.
    expect(publishRuns).toContain('npx nx run-many -t manifest-push');
    expect(publishRuns).not.toContain('--exclude-task-dependencies');
    expect(publishRuns).not.toContain('docker-arch-build');
  });

  it('gives the read-write cache token to trusted pushes only, and the read-only one to pull requests', async () => {
    await ciWorkflowGenerator(tree, { skipFormat: true });
    const wf = readWorkflow(tree);
    for (const job of Object.values(wf.jobs)) {
      expect(job.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER).toBe('${{ secrets.NX_SELF_HOSTED_REMOTE_CACHE_SERVER }}');
      expect(job.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN).toBe(`\${{ (${TRUSTED}) && secrets.NX_CACHE_READ_WRITE_TOKEN || secrets.NX_CACHE_READ_ONLY_TOKEN }}`);
    }
    expect(wf.jobs.publish.env.NX_MULTIARCH_REGISTRY_PASSWORD).toBe('${{ secrets.NX_MULTIARCH_REGISTRY_PASSWORD }}');
    expect(wf.jobs.build.env.NX_MULTIARCH_REGISTRY_PASSWORD).toBeUndefined();
    // No event value is pasted into a shell script.
    for (const job of Object.values(wf.jobs)) for (const step of job.steps) expect(step.run ?? '').not.toMatch(/\$\{\{\s*github\.(base_ref|head_ref|event)/);
  });

  it('follows options: arches in any spelling, branch, node, runner, toolchain set-up, file name', async () => {
    await ciWorkflowGenerator(tree, {
      name: 'images',
      arches: ['aarch64', 'linux/arm/v7', 's390x'],
      mainBranch: 'release/2.14',
      nodeVersion: '22',
      runsOn: 'ubuntu-24.04',
      setupCommand: 'sudo bash tools/setup.sh --cross',
      skipFormat: true,
    });
    const wf = readWorkflow(tree, '.github/workflows/images.yml');
    expect(wf.name).toBe('images');
    expect(wf.jobs.build.strategy?.matrix.include).toEqual([
      { arch: 'arm64', runner: 'ubuntu-24.04-arm' },
      { arch: 'arm', runner: 'ubuntu-24.04' },
      { arch: 's390x', runner: 'ubuntu-24.04' },
    ]);
    expect(wf.on.push.branches).toEqual(['release/2.14']);
    expect(wf.jobs.publish.if).toContain("github.ref == 'refs/heads/release/2.14'");
    expect(wf.jobs.publish['runs-on']).toBe('ubuntu-24.04');
    expect(wf.jobs.build.steps.find((s) => s.uses === 'actions/setup-node@v4')?.with?.['node-version']).toBe('22');
    expect(wf.jobs.build.steps.map((s) => s.run)).toContain('sudo bash tools/setup.sh --cross');
    // The publish job installs no toolchain: it compiles nothing.
    expect(wf.jobs.publish.steps.map((s) => s.run)).not.toContain('sudo bash tools/setup.sh --cross');
  });

  it('takes the main branch from nx.json defaultBase', async () => {
    const nxJson = JSON.parse(tree.read('nx.json', 'utf-8') ?? '{}');
    tree.write('nx.json', JSON.stringify({ ...nxJson, defaultBase: 'trunk' }));
    await ciWorkflowGenerator(tree, { skipFormat: true });
    expect(readWorkflow(tree).on.push.branches).toEqual(['trunk']);
  });

  it.each([
    [{ arches: 'amd64,mips' }, /Unsupported arch "mips"[\s\S]*hint: Use one of/],
    [{ mainBranch: "main' || true || '" }, /Invalid mainBranch[\s\S]*hint:/],
    [{ nodeVersion: 'twenty' }, /Invalid nodeVersion "twenty"[\s\S]*hint:/],
    [{ runsOn: 'ubuntu latest' }, /Invalid runsOn[\s\S]*hint:/],
    [{ name: '../escape' }, /Invalid name "..\/escape"[\s\S]*hint:/],
    [{ setupCommand: 'a\nb' }, /setupCommand must be one non-empty line[\s\S]*hint:/],
  ])('refuses %j with the fix and writes nothing', async (options, message) => {
    await expect(ciWorkflowGenerator(tree, options)).rejects.toThrow(message);
    expect(tree.exists('.github')).toBe(false);
  });

  it('does not replace an existing workflow unless --overwrite', async () => {
    tree.write(PATH, 'name: mine\n');
    await expect(ciWorkflowGenerator(tree, { skipFormat: true })).rejects.toThrow(/exists already[\s\S]*hint: Pass --overwrite/);
    expect(tree.read(PATH, 'utf-8')).toBe('name: mine\n');
    await ciWorkflowGenerator(tree, { overwrite: true, skipFormat: true });
    expect(readWorkflow(tree).jobs.publish.needs).toBe('build');
  });
});

describe('toYaml', () => {
  it('round-trips strings YAML would otherwise misread', () => {
    const value = {
      words: ['on', 'yes', 'null', '1.0', '0x10', '', '- x', 'a: b', 'x #y', '*star', "it's", '{a}', '${{ matrix.arch }}', 'ends:'],
      nested: [{ a: 1, b: [true, 'two'] }, { c: 'multi\nline\n' }, { d: 'no newline\nat end' }],
      empty: {},
      none: [],
    };
    expect(parse(toYaml(value, ['a comment']))).toEqual(value);
  });
});
