import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Deadline } from '../support/deadline';
import { HELLO_REPO, writeHelloRepo } from '../support/hello-repo';
import { EM_AARCH64, elfIdentity, readImageLayout } from '../support/oci-layout';
import { childEnv, run, type RunResult } from '../support/run';
import { addUser, LOCAL_PACKAGE, startRegistry, type LocalRegistry } from '../support/verdaccio';

/**
 * The plugin as a team gets it: published to a registry, installed into a
 * workspace that has never seen it, driven only through the Nx CLI.
 */
const REPO_ROOT = resolve(__dirname, '../../..');
const PLUGIN_DIR = join(REPO_ROOT, 'packages', 'nx-multiarch');
const NX_VERSION = '24.0.6';
const DEVKIT_VERSION = '24.0.0';
const KEEP = process.env.NX_MULTIARCH_E2E_KEEP === '1';

/** Verdaccio start, publish and installs share these 10 minutes. */
const setup = new Deadline('e2e set-up (registry, publish, installs)', 10 * 60_000);

let tmp: string;
let registry: LocalRegistry | undefined;
let workspace: string;
let repoSource: string;
/** Registry only: installs need no login (with a token, verdaccio checks the password on every request). */
let npmrc: string;
/** Registry and the publishing user's token. */
let publishNpmrc: string;
let logDir: string;

function nx(args: string[], timeoutMs: number, allowFailure = false): RunResult {
  return run('npx', ['--no-install', 'nx', ...args], {
    cwd: workspace,
    env: childEnv({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_INTERACTIVE: 'false', npm_config_userconfig: npmrc, CI: 'true' }),
    timeoutMs,
    logDir,
    allowFailure,
  });
}

function npm(args: string[], cwd: string, timeoutMs: number): RunResult {
  return run('npm', args, { cwd, env: childEnv({ npm_config_userconfig: npmrc }), timeoutMs, logDir });
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

interface NxJsonFile {
  plugins?: Array<string | { plugin: string; options?: { arches?: string[] } }>;
  namedInputs?: Record<string, unknown>;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'nx-multiarch-e2e-'));
  logDir = join(tmp, 'logs');
  workspace = join(tmp, 'workspace');
  repoSource = join(tmp, 'repos', 'hello');
  npmrc = join(tmp, 'npmrc');
  publishNpmrc = join(tmp, 'npmrc-publish');
  mkdirSync(workspace, { recursive: true });

  // The registry npm uses on this machine becomes the uplink; it is read here and written only into the temp config.
  const uplink = run('npm', ['config', 'get', 'registry'], { cwd: tmp, env: childEnv(), timeoutMs: 30_000, logDir }).output.trim();
  expect(uplink).toMatch(/^https?:\/\//);

  run('npm', ['run', 'build:plugin'], { cwd: REPO_ROOT, env: childEnv(), timeoutMs: setup.limit(5 * 60_000, 'plugin build'), logDir });

  registry = await startRegistry(join(tmp, 'verdaccio'), uplink, setup);
  const token = await addUser(registry.url, 'e2e', `pw-${process.pid}-${Date.now()}`);
  const host = registry.url.replace(/^http:/, '');
  const settings = `registry=${registry.url}/\nfund=false\naudit=false\nupdate-notifier=false\n`;
  writeFileSync(npmrc, settings);
  writeFileSync(publishNpmrc, `${settings}${host}/:_authToken=${token}\n`);

  npm(['publish', PLUGIN_DIR, '--registry', `${registry.url}/`, '--userconfig', publishNpmrc], tmp, setup.limit(3 * 60_000, 'npm publish'));

  writeFileSync(join(workspace, 'package.json'), `${JSON.stringify({ name: 'e2e-workspace', version: '0.0.0', private: true }, null, 2)}\n`);
  writeFileSync(join(workspace, 'nx.json'), `${JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json', cacheDirectory: '.nx/cache' }, null, 2)}\n`);
  npm(
    ['install', '--save-dev', '--save-exact', `nx@${NX_VERSION}`, `@nx/devkit@${DEVKIT_VERSION}`, LOCAL_PACKAGE, '--registry', `${registry.url}/`, '--no-fund', '--no-audit'],
    workspace,
    setup.limit(8 * 60_000, 'npm install'),
  );
});

afterAll(async () => {
  await registry?.stop();
  if (tmp && !KEEP) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`e2e folder kept: ${tmp}`);
});

describe('nx-multiarch installed from a local registry into a fresh workspace', () => {
  it('installs the published plugin with what Nx loads', () => {
    const installed = join(workspace, 'node_modules', LOCAL_PACKAGE);
    const pkg = readJson<{ version: string }>(join(installed, 'package.json'));
    expect(pkg.version).toBe(readJson<{ version: string }>(join(PLUGIN_DIR, 'package.json')).version);
    // A copy from the registry, not a link to this checkout.
    expect(existsSync(join(installed, 'src', 'graph'))).toBe(false);
    for (const file of ['executors.json', 'generators.json', 'dist/index.js', 'dist/generators/init/generator.js', 'src/generators/init/schema.json', 'src/executors/docker-arch-build/schema.json']) {
      expect(existsSync(join(installed, file))).toBe(true);
    }
  });

  it('nx add runs the init generator, and init again adds no second entry', () => {
    const ours = () =>
      (readJson<NxJsonFile>(join(workspace, 'nx.json')).plugins ?? []).filter((p) => (typeof p === 'string' ? p : p.plugin) === LOCAL_PACKAGE);
    expect(ours()).toEqual([]);
    nx(['add', LOCAL_PACKAGE], 5 * 60_000);
    expect(ours()).toEqual([{ plugin: LOCAL_PACKAGE, options: { arches: ['amd64', 'arm64', 'arm'] } }]);
    nx(['g', `${LOCAL_PACKAGE}:init`], 3 * 60_000);
    expect(ours()).toEqual([{ plugin: LOCAL_PACKAGE, options: { arches: ['amd64', 'arm64', 'arm'] } }]);
    const nxJson = readJson<NxJsonFile>(join(workspace, 'nx.json'));
    expect(Object.keys(nxJson.namedInputs ?? {})).toEqual(expect.arrayContaining(['default', 'production']));
    expect(readFileSync(join(workspace, '.gitignore'), 'utf8')).toMatch(/^\/dist$/m);
  });

  it('a bad option fails with the problem and the fix, and changes nothing', () => {
    const before = readFileSync(join(workspace, 'nx.json'), 'utf8');
    const result = nx(['g', `${LOCAL_PACKAGE}:init`, '--arches=amd64,sparc'], 3 * 60_000, true);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Unsupported arch "sparc"/);
    expect(result.output).toMatch(/hint: Use one of: amd64, arm64, arm/);
    expect(readFileSync(join(workspace, 'nx.json'), 'utf8')).toBe(before);
  });

  it('import-repo --dry-run shows the files and writes none', () => {
    writeHelloRepo(repoSource);
    const result = nx(['g', `${LOCAL_PACKAGE}:import-repo`, repoSource, '--dry-run'], 3 * 60_000);
    expect(result.output).toMatch(/CREATE packages\/hello\/nx-images\/bundle\/project.json/);
    expect(result.output).toMatch(/CREATE packages\/hello\/hello-rs\/src\/main.rs/);
    expect(existsSync(join(workspace, 'packages'))).toBe(false);
  });

  it('import-repo copies a Go and Rust repository in and configures its projects', () => {
    nx(['g', `${LOCAL_PACKAGE}:import-repo`, repoSource], 3 * 60_000);
    const repo = join(workspace, 'packages', 'hello');
    for (const path of Object.keys(HELLO_REPO)) expect(readFileSync(join(repo, path), 'utf8')).toBe(HELLO_REPO[path]);

    const projects = JSON.parse(nx(['show', 'projects', '--json'], 3 * 60_000).output.trim().split('\n').pop() ?? '[]') as string[];
    expect(projects).toEqual(expect.arrayContaining(['hello-go', 'hello-rs', 'hello-bundle']));

    const bundle = readJson<{ targets: Record<string, { options: Record<string, unknown> }> }>(join(repo, 'nx-images', 'bundle', 'project.json'));
    expect(bundle.targets['docker-arch-build'].options).toEqual({
      dockerfile: 'packages/hello/Dockerfile.bundle',
      context: 'packages/hello',
      artifacts: [
        { from: 'dist/cross/hello-go/{arch}', to: 'bin' },
        { package: 'dist/cross/hello-rs/{arch}', to: 'bin' },
      ],
    });
  });

  it('run-many builds every image for arm64: OCI layouts of arm64 images holding aarch64 binaries', () => {
    const result = nx(['run-many', '-t', 'docker-arch-build', '--arch=arm64', '--outputStyle=stream'], 10 * 60_000);
    expect(result.output).toMatch(/Successfully ran target docker-arch-build for 3 projects/);

    const expected: Record<string, Record<string, RegExp>> = {
      'hello-go': { 'usr/local/bin/hello-go': /^hello-go linux\/arm64$/ },
      'hello-rs': { 'usr/local/bin/hello-rs': /^hello-rs aarch64$/ },
      'hello-bundle': { 'usr/local/bin/hello-go': /^hello-go linux\/arm64$/, 'usr/local/bin/hello-rs': /^hello-rs aarch64$/ },
    };
    for (const [project, binaries] of Object.entries(expected)) {
      const layoutDir = join(workspace, 'dist', 'images', project, 'arm64');
      expect(readJson<{ imageLayoutVersion: string }>(join(layoutDir, 'oci-layout')).imageLayoutVersion).toBe('1.0.0');
      const image = readImageLayout(layoutDir);
      expect(image.index.manifests[0].platform).toEqual({ architecture: 'arm64', os: 'linux' });
      expect({ architecture: image.config.architecture, os: image.config.os, variant: image.config.variant }).toEqual({ architecture: 'arm64', os: 'linux', variant: undefined });
      for (const [path, prints] of Object.entries(binaries)) {
        const binary = image.files.get(path);
        expect(binary).toBeDefined();
        expect(elfIdentity(binary as Buffer)).toEqual({ bits: 64, littleEndian: true, machine: EM_AARCH64 });
        // The binary really runs as arm64 code (static, so no sysroot is needed).
        const file = join(tmp, `${project}-${path.split('/').pop()}`);
        writeFileSync(file, binary as Buffer);
        chmodSync(file, 0o755);
        const ran = run('qemu-aarch64-static', [file], { cwd: tmp, env: childEnv(), timeoutMs: 30_000, logDir });
        expect(ran.output.trim()).toMatch(prints);
      }
    }
    const rsImage = readImageLayout(join(workspace, 'dist', 'images', 'hello-rs', 'arm64'));
    expect(rsImage.files.get('usr/share/doc/hello-rs/LICENSE')?.toString()).toBe(HELLO_REPO['hello-rs/LICENSE']);
  });

  it('ci-workflow writes a workflow whose matrix follows the plugin arches', () => {
    nx(['g', `${LOCAL_PACKAGE}:ci-workflow`], 3 * 60_000);
    const workflow = parse(readFileSync(join(workspace, '.github', 'workflows', 'nx-multiarch.yml'), 'utf8')) as {
      jobs: { build: { strategy: { matrix: { include: Array<{ arch: string; runner: string }> } } }; publish: { needs: string } };
    };
    // One matrix leg per plugin arch, arm64 on GitHub's native arm64 runner by default.
    expect(workflow.jobs.build.strategy.matrix.include.map((leg) => leg.arch)).toEqual(['amd64', 'arm64', 'arm']);
    expect(workflow.jobs.build.strategy.matrix.include.find((leg) => leg.arch === 'arm64')?.runner).toBe('ubuntu-24.04-arm');
    expect(workflow.jobs.publish.needs).toBe('build');
  });

  it('a second run-many is served from the cache', () => {
    const result = nx(['run-many', '-t', 'docker-arch-build', '--arch=arm64'], 5 * 60_000);
    expect(result.output).toMatch(/Nx read the output from the cache instead of running the command for (\d+) out of \1 tasks/);
  });
});
