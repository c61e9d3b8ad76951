import { type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse, parseDocument } from 'yaml';
import initGenerator from '../init/generator';
import ciWorkflowGenerator from './generator';
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
  env?: Record<string, string>;
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

  it('loads Nx plugins in Nx\'s own process in every job, unless --isolatePlugins keeps Nx\'s workers', async () => {
    await ciWorkflowGenerator(tree, { skipFormat: true });
    expect(readWorkflow(tree).env).toEqual({ NX_ISOLATE_PLUGINS: 'false' });
    await ciWorkflowGenerator(tree, { isolatePlugins: true, overwrite: true, skipFormat: true });
    expect(readWorkflow(tree).env).toBeUndefined();
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

/** A workspace with a Go module and a Cargo package, as the proving ground has. */
function writeGoAndRust(tree: Tree): void {
  tree.write('apps/ctl/go.mod', 'module example.com/ctl\n\ngo 1.21\n');
  tree.write('apps/ctl/go.sum', '');
  tree.write('apps/init/go.mod', 'module example.com/init\n\ngo 1.22.4\n');
  tree.write('apps/init/go.sum', '');
  tree.write('apps/proxy/Cargo.toml', '[package]\nname = "proxy"\nversion = "0.1.0"\n');
  tree.write('apps/proxy/Cargo.lock', 'version = 3\n');
}

interface GitlabJob {
  stage: string;
  tags?: string[];
  needs?: string[];
  parallel?: { matrix: Array<{ ARCH: string; RUNNER: string }> };
  rules?: Array<{ if?: string; when?: string; variables?: Record<string, string> }>;
  cache?: Array<{ key: { files: string[]; prefix: string }; paths: string[] }>;
  before_script?: string[];
  script: string[];
}

describe('ci-workflow per-arch set-up and runners', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    writeGoAndRust(tree);
  });

  it('ppc64le and s390x: emulated on the default runner, with Go from go.mod, Rust target std and dependency caches', async () => {
    await initGenerator(tree, { arches: 'ppc64le,s390x', skipFormat: true });
    await ciWorkflowGenerator(tree, { skipFormat: true });
    const wf = readWorkflow(tree);
    expect(wf.jobs.build.strategy?.matrix.include).toEqual([
      { arch: 'ppc64le', runner: 'ubuntu-latest' },
      { arch: 's390x', runner: 'ubuntu-latest' },
    ]);
    const steps = wf.jobs.build.steps;
    // The newest go line of every go.mod: setup-go installs that version, and caches modules keyed on every go.sum.
    expect(steps.find((s) => s.uses === 'actions/setup-go@v5')?.with).toEqual({ 'go-version-file': 'apps/init/go.mod', cache: true, 'cache-dependency-path': '**/go.sum' });
    const cargoCache = steps.find((s) => s.uses === 'actions/cache@v4');
    expect(cargoCache?.with?.key).toBe("cargo-registry-${{ runner.os }}-${{ hashFiles('**/Cargo.lock') }}");
    expect(String(cargoCache?.with?.path).split('\n')).toEqual(['~/.cargo/registry/index', '~/.cargo/registry/cache', '~/.cargo/git/db']);
    expect(steps.map((s) => s.run)).toContain('npx nx-multiarch setup --arch "$ARCH" --rust-toolchain stable');
    // The Nx cache stays remote only: no step caches .nx.
    expect(JSON.stringify(wf)).not.toContain('.nx/cache');
    // The publish job computes the same Go hashes (same version), without the build caches.
    expect(wf.jobs.publish.steps.find((s) => s.uses === 'actions/setup-go@v5')?.with).toEqual({ 'go-version-file': 'apps/init/go.mod', cache: false });
    expect(wf.jobs.publish.steps.some((s) => s.uses === 'actions/cache@v4')).toBe(false);
  });

  it('arm64 only: the native arm64 runner for the matrix, the default one for publish', async () => {
    await initGenerator(tree, { arches: 'arm64', skipFormat: true });
    await ciWorkflowGenerator(tree, { rustToolchain: '1.82.0', skipFormat: true });
    const wf = readWorkflow(tree);
    expect(wf.jobs.build.strategy?.matrix.include).toEqual([{ arch: 'arm64', runner: 'ubuntu-24.04-arm' }]);
    expect(wf.jobs.publish['runs-on']).toBe('ubuntu-latest');
    expect(wf.jobs.build.steps.map((s) => s.run)).toContain('npx nx-multiarch setup --arch "$ARCH" --rust-toolchain 1.82.0');
  });

  it('a custom runner map wins over the native default; --nativeRunners=false keeps every arch on the default', async () => {
    await initGenerator(tree, { arches: 'amd64,arm64,s390x', skipFormat: true });
    await ciWorkflowGenerator(tree, { runners: 'aarch64=arm-large, s390x=z-runner', skipFormat: true });
    expect(readWorkflow(tree).jobs.build.strategy?.matrix.include).toEqual([
      { arch: 'amd64', runner: 'ubuntu-latest' },
      { arch: 'arm64', runner: 'arm-large' },
      { arch: 's390x', runner: 'z-runner' },
    ]);
    await ciWorkflowGenerator(tree, { runners: { s390x: 'z-runner' }, nativeRunners: false, overwrite: true, skipFormat: true });
    expect(readWorkflow(tree).jobs.build.strategy?.matrix.include).toEqual([
      { arch: 'amd64', runner: 'ubuntu-latest' },
      { arch: 'arm64', runner: 'ubuntu-latest' },
      { arch: 's390x', runner: 'z-runner' },
    ]);
  });

  it('a workspace without Go or Rust gets neither toolchain nor cache', async () => {
    const bare = createTreeWithEmptyWorkspace();
    await ciWorkflowGenerator(bare, { skipFormat: true });
    const wf = readWorkflow(bare);
    const uses = wf.jobs.build.steps.map((s) => s.uses).filter(Boolean);
    expect(uses).toEqual(['actions/checkout@v4', 'actions/setup-node@v4']);
    expect(wf.jobs.build.steps.map((s) => s.run)).toContain('npx nx-multiarch setup --arch "$ARCH"');
  });

  it.each([
    [{ provider: 'jenkins' }, /Unknown CI provider "jenkins"[\s\S]*hint: Use --provider=github/],
    [{ runners: 'ppc64le=power9' }, /runners names ppc64le, which the workflow does not build \(its arches: amd64, arm64, arm\)[\s\S]*hint: Remove that entry/],
    [{ runners: 'arm64' }, /Invalid runners entry "arm64"[\s\S]*hint: Write arch=label pairs/],
    [{ runners: { arm64: 'bad label' } }, /Invalid runner label "bad label" for arm64[\s\S]*hint:/],
    [{ runners: 'mips=big' }, /Unsupported arch "mips"[\s\S]*hint:/],
    [{ rustToolchain: 'system' }, /Invalid rustToolchain "system"[\s\S]*hint: Give a rustup toolchain name/],
    [{ provider: 'gitlab', runners: 's390x=z' }, /runners names s390x/],
  ])('refuses %j with the fix and writes nothing', async (options, message) => {
    await expect(ciWorkflowGenerator(tree, options)).rejects.toThrow(message);
    expect(tree.exists('.github')).toBe(false);
    expect(tree.exists('.gitlab-ci.yml')).toBe(false);
  });
});

describe('ci-workflow --provider gitlab', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    writeGoAndRust(tree);
  });

  function readPipeline(path = '.gitlab-ci.yml'): Record<string, unknown> & { build: GitlabJob; publish: GitlabJob } {
    const doc = parseDocument(tree.read(path, 'utf-8') ?? '', { prettyErrors: true });
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Record<string, unknown> & { build: GitlabJob; publish: GitlabJob };
  }

  it('writes .gitlab-ci.yml: parallel:matrix over the arches with a runner tag each, caches keyed on go.sum and Cargo.lock', async () => {
    await initGenerator(tree, { arches: 'amd64,arm64,ppc64le', skipFormat: true });
    await ciWorkflowGenerator(tree, { provider: 'gitlab', skipFormat: true });
    const pipeline = readPipeline();
    expect(pipeline.stages).toEqual(['build', 'publish']);
    expect(pipeline.variables).toMatchObject({ GIT_DEPTH: '0', NX_SELF_HOSTED_REMOTE_CACHE_SERVER: '$NX_SELF_HOSTED_REMOTE_CACHE_SERVER', NX_ISOLATE_PLUGINS: 'false' });
    const build = pipeline.build;
    expect(build.parallel?.matrix).toEqual([
      { ARCH: 'amd64', RUNNER: 'saas-linux-small-amd64' },
      { ARCH: 'arm64', RUNNER: 'saas-linux-small-arm64' },
      { ARCH: 'ppc64le', RUNNER: 'saas-linux-small-amd64' },
    ]);
    expect(build.tags).toEqual(['$RUNNER']);
    expect(build.before_script).toEqual(['npm ci', 'npx nx-multiarch setup --arch "$ARCH" --rust-toolchain stable']);
    expect(build.script.at(-1)).toBe('npx nx affected -t "docker-arch-build--$ARCH" "arch-integration--$ARCH"');
    expect(build.cache).toEqual([
      { key: { prefix: 'go-mod', files: ['apps/ctl/go.sum', 'apps/init/go.sum'] }, paths: ['.cache/go-mod/'] },
      { key: { prefix: 'cargo-registry', files: ['apps/proxy/Cargo.lock'] }, paths: ['.cache/cargo/registry/', '.cache/cargo/git/db/'] },
    ]);
    expect(pipeline.publish.needs).toEqual(['build']);
    expect(pipeline.publish.script).toEqual(['npx nx run-many -t manifest-push']);
  });

  it('gives the read-write token (a protected variable) only to pushes of protected refs; merge requests read only', async () => {
    await ciWorkflowGenerator(tree, { provider: 'gitlab', skipFormat: true });
    const { build, publish } = readPipeline();
    const trusted = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_REF_PROTECTED == "true" && ($CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG)';
    expect(build.rules).toEqual([
      { if: trusted, variables: { NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: '$NX_CACHE_READ_WRITE_TOKEN' } },
      { when: 'on_success', variables: { NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: '$NX_CACHE_READ_ONLY_TOKEN' } },
    ]);
    // publish has no fallback rule: it never runs outside a trusted pipeline.
    expect(publish.rules).toEqual([{ if: trusted, variables: { NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: '$NX_CACHE_READ_WRITE_TOKEN' } }]);
    expect(tree.read('.gitlab-ci.yml', 'utf-8')).not.toMatch(/NX_CACHE_READ_WRITE_TOKEN\s*:\s*"?[A-Za-z0-9]/);
  });

  it('a named pipeline is written beside .gitlab-ci.yml, for an include:', async () => {
    await ciWorkflowGenerator(tree, { provider: 'gitlab', name: 'images', runsOn: 'docker-amd64', skipFormat: true });
    expect(tree.exists('images.gitlab-ci.yml')).toBe(true);
    expect(readPipeline('images.gitlab-ci.yml').publish.tags).toEqual(['docker-amd64']);
  });
});
