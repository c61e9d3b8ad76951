import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, runChecked, type RunResult } from '../../src/util/exec';
import { buildTestServer, exists, testServerImage } from './lib/test-images';
import { NX_TEST_ENV } from '../support/nx-env';

/**
 * The executor through real Nx, in a small workspace made here: the real
 * plugin's inferred arch-integration target, projects whose arch tests
 * import `nx-multiarch/integration`, and images written into dist/images as
 * docker-arch-build would. Checks what a user checks: exit codes, the JUnit
 * file, the cache, and the messages of bad input.
 */
jest.setTimeout(600_000);

const REPO = resolve(__dirname, '../../../..');
const NX = require.resolve('nx/bin/nx', { paths: [REPO] });
let ws: string;

const GOOD_TEST = `import { freePort, startImage, testContext } from 'nx-multiarch/integration';

describe('app image', () => {
  it('serves for the arch under test', async () => {
    const ctx = testContext();
    expect(ctx.runner).toBe('qemu');
    const port = await freePort();
    const server = await startImage({ args: ['--listen', \`127.0.0.1:\${port}\`] });
    const answer = await server.waitForHttp(port, '/');
    expect(answer.body).toBe(\`hello from \${ctx.arch}\\n\`);
  });

  it.todo('checks more later');
});
`;

/** A project whose image the test writes into dist/images itself, so it declares image: true rather than a docker-arch-build target. */
async function project(name: string, options: Record<string, unknown> = { image: true }, testFile?: string): Promise<void> {
  const root = join(ws, 'packages', name);
  await mkdir(join(root, 'integration'), { recursive: true });
  await writeFile(join(root, 'project.json'), JSON.stringify({ name, root: `packages/${name}`, targets: { 'arch-integration': { options } } }, null, 2));
  if (testFile !== undefined) await writeFile(join(root, 'integration', `${name}.arch.test.ts`), testFile);
}

function nxWith(env: Record<string, string>, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [NX, ...args], {
    cwd: ws,
    // A developer's NX_MULTIARCH_RUNNER or remote cache must not change what these runs test.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_'))), ...NX_TEST_ENV, CI: 'true', ...env },
    timeoutMs: 300_000,
  });
}

const nx = (...args: string[]) => nxWith({}, ...args);

const HANGING_TEST = `import { freePort, startImage } from 'nx-multiarch/integration';

it('starts the image, then waits for ever', async () => {
  const port = await freePort();
  await startImage({ args: ['--listen', \`127.0.0.1:\${port}\`] });
  await new Promise(() => undefined);
});
`;

const TOOL_TEST = `import { runBinary, startImage, freePort, testContext } from 'nx-multiarch/integration';

describe('a project that ships a binary, not an image', () => {
  it('runs its own binary for the arch, and another project’s image', async () => {
    const ctx = testContext();
    const result = await runBinary('testserver', ['--exit', '0', 'tool']);
    expect(result.stdout).toBe(\`arch=\${ctx.arch} args=[tool]\\n\`);
    const port = await freePort();
    const app = await startImage({ project: 'app', args: ['--listen', \`127.0.0.1:\${port}\`] });
    expect((await app.waitForHttp(port, '/')).body).toBe(\`hello from \${ctx.arch}\\n\`);
  });
});
`;

const output = (r: RunResult) => `${r.stdout}\n${r.stderr}`;

beforeAll(async () => {
  // The workspace loads the plugin's compiled executor, as any consumer would.
  await runChecked('npx', ['tsc', '-b', 'packages/nx-multiarch/tsconfig.lib.json'], { cwd: REPO, what: 'building the plugin' });
  ws = await mkdtemp(join(tmpdir(), 'arch-integration-ws-'));
  // The plugin infers arch-integration (and its per-arch variants) for projects with an integration/ folder.
  await writeFile(
    join(ws, 'nx.json'),
    JSON.stringify({ cacheDirectory: '.nx/cache', plugins: [{ plugin: 'nx-multiarch', options: { arches: ['amd64', 'arm64', 'arm'] } }] }, null, 2),
  );
  await writeFile(join(ws, 'package.json'), JSON.stringify({ name: 'arch-integration-ws', private: true }));
  await symlink(join(REPO, 'node_modules'), join(ws, 'node_modules'));
  await project('app', undefined, GOOD_TEST);
  await testServerImage(join(ws, 'dist/images/app/arm64'), 'arm64');
  await testServerImage(join(ws, 'dist/images/app/arm'), 'arm');
  await project('broken', undefined, GOOD_TEST);
  await testServerImage(join(ws, 'dist/images/broken/arm64'), 'arm64', 'amd64');
  await project('noimage', undefined, GOOD_TEST);
  await project('notests');
  await project('tool', {}, TOOL_TEST);
  await project('hang', { image: true, timeoutMs: 20_000, testTimeoutMs: 600_000 }, HANGING_TEST);
  await testServerImage(join(ws, 'dist/images/hang/arm64'), 'arm64');
  await mkdir(join(ws, 'dist/cross/tool/arm64'), { recursive: true });
  await copyFile(await buildTestServer('arm64'), join(ws, 'dist/cross/tool/arm64/testserver'));
  await testServerImage(join(ws, 'dist/images/notests/arm64'), 'arm64');
});

afterAll(() => rm(ws, { recursive: true, force: true }));

describe('nx run <project>:arch-integration', () => {
  it('runs the project’s arch tests against the arm64 image and writes JUnit XML', async () => {
    const result = await nx('run', 'app:arch-integration', '--arch=arm64');
    expect(output(result)).toContain('arch-integration app linux/arm64 (qemu): 1 passed, 0 failed, 0 errors, 1 skipped');
    expect(result.exitCode).toBe(0);
    const xml = await readFile(join(ws, 'dist/test-results/app/arm64/junit.xml'), 'utf8');
    expect(xml).toContain('<testsuite name="integration/app.arch.test.ts" tests="2" failures="0" errors="0" skipped="1"');
    expect(xml).toContain('<property name="platform" value="linux/arm64"/>');
    expect(xml).toContain('<property name="runner" value="qemu"/>');
    expect(xml).toMatch(/<property name="image" value="sha256:[0-9a-f]{64}"\/>/);
    const summary = JSON.parse(await readFile(join(ws, 'dist/test-results/app/arm64/summary.json'), 'utf8'));
    expect(summary).toMatchObject({ project: 'app', arch: 'arm64', runner: 'qemu', success: true, tests: 2, failures: 0 });
  });

  it('is cached per arch: a second run and a run after deleting dist/test-results are cache hits', async () => {
    const again = await nx('run', 'app:arch-integration', '--arch=arm64');
    expect(again.exitCode).toBe(0);
    expect(output(again)).toMatch(/local cache|read the output from the cache/);
    await rm(join(ws, 'dist/test-results'), { recursive: true, force: true });
    const restored = await nx('run', 'app:arch-integration', '--arch=arm64');
    expect(output(restored)).toMatch(/local cache|read the output from the cache/);
    expect(await exists(join(ws, 'dist/test-results/app/arm64/junit.xml'))).toBe(true);
  });

  it('tests arm/v7 as its own task, with the arch spelt as given in the output folder', async () => {
    const result = await nx('run', 'app:arch-integration', '--arch=arm');
    expect(result.exitCode).toBe(0);
    expect(output(result)).toContain('arch-integration app linux/arm/v7 (qemu): 1 passed');
    expect(output(result)).not.toMatch(/local cache/);
    expect(await exists(join(ws, 'dist/test-results/app/arm/junit.xml'))).toBe(true);
  });

  it('reruns when a test file changes', async () => {
    await writeFile(join(ws, 'packages/app/integration/app.arch.test.ts'), `${GOOD_TEST}\n// changed\n`);
    const result = await nx('run', 'app:arch-integration', '--arch=arm64');
    expect(result.exitCode).toBe(0);
    expect(output(result)).not.toMatch(/local cache|read the output from the cache/);
  });

  it('fails a broken image (amd64 binary in an arm64 layout) with the process error in the JUnit file', async () => {
    const started = Date.now();
    const result = await nx('run', 'broken:arch-integration', '--arch=arm64');
    expect(result.exitCode).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(output(result)).toContain('arch-integration broken linux/arm64 (qemu): 0 passed, 1 failed');
    const xml = await readFile(join(ws, 'dist/test-results/broken/arm64/junit.xml'), 'utf8');
    expect(xml).toContain('failures="1"');
    expect(xml).toContain('Invalid ELF image for this architecture');
    expect(xml).toContain('/bin/testserver is an ELF binary for amd64, but the image is arm64.');
  });

  it('refuses an unknown arch, listing the supported ones, and writes nothing', async () => {
    const result = await nx('run', 'app:arch-integration', '--arch=sparc');
    expect(result.exitCode).not.toBe(0);
    expect(output(result)).toContain('Unsupported arch "sparc".');
    expect(output(result)).toContain('Use one of: amd64, arm64, arm, ppc64le, s390x, riscv64');
    expect(await exists(join(ws, 'dist/test-results/app/sparc'))).toBe(false);
  });

  it('says how to build a missing image', async () => {
    const result = await nx('run', 'noimage:arch-integration', '--arch=arm64');
    expect(result.exitCode).not.toBe(0);
    expect(output(result)).toContain('No image of noimage for arm64');
    expect(output(result)).toContain('nx run noimage:docker-arch-build --arch=arm64');
    expect(await exists(join(ws, 'dist/test-results/noimage'))).toBe(false);
  });

  it('says where it looked when a project has no arch tests', async () => {
    const result = await nx('run', 'notests:arch-integration', '--arch=arm64');
    expect(result.exitCode).not.toBe(0);
    expect(output(result)).toContain('Project notests has no arch integration tests matching integration/**/*.arch.test.ts');
    expect(await exists(join(ws, 'dist/test-results/notests'))).toBe(false);
  });

  it('tests a binary-only project (no image target) with its cross binary and another project’s image', async () => {
    const result = await nx('run', 'tool:arch-integration', '--arch=arm64');
    expect(output(result)).toContain('arch-integration tool linux/arm64 (qemu): 1 passed, 0 failed');
    expect(result.exitCode).toBe(0);
  });

  it('stops a hanging test run at timeoutMs, with every process it started', async () => {
    const started = Date.now();
    const result = await nx('run', 'hang:arch-integration', '--arch=arm64');
    expect(result.exitCode).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(output(result)).toContain('The integration tests of hang for arm64 did not finish within 20000 ms and were stopped.');
    // No emulated server of that run is left: ps lists no qemu process using its work folder.
    const ps = await run('ps', ['-eo', 'args']);
    expect(ps.stdout).not.toMatch(/nx-multiarch-it-hang-/);
    expect(await exists(join(ws, 'dist/test-results/hang'))).toBe(false);
  });

  it('takes the runner for one run from NX_MULTIARCH_RUNNER, and refuses one that is not a runner', async () => {
    const result = await nxWith({ NX_MULTIARCH_RUNNER: 'podman' }, 'run', 'app:arch-integration', '--arch=arm64');
    expect(result.exitCode).not.toBe(0);
    expect(output(result)).toContain('Unknown runner "podman".');
    expect(output(result)).toContain('Use one of: auto, qemu, docker, remote (option runner, or NX_MULTIARCH_RUNNER).');
  });
});
