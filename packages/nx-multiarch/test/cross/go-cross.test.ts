import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoCross } from '../../src/cross/go-cross';
import { MultiarchError } from '../../src/errors';
import { PLATFORMS } from '../../src/platform/platforms';
import { outputDir } from '../../src/outputs/paths';
import { cleanUpTemp, crossContextFor, type TestContext, FIXTURES, goCacheOutputs, listDir, ownGoCaches, pathWithOnly, runUnderQemu, sha256File, workspaceWith } from './helpers';

/**
 * go-cross against a small fixture module (a main at the root, a second main
 * under cmd/, a non-main package): real cross builds run under qemu-user.
 */
jest.setTimeout(600_000);
afterAll(cleanUpTemp);

const FIXTURE = join(FIXTURES, 'go-hello');
const PROJECT = 'go-hello';

async function expectError(promise: Promise<unknown>): Promise<MultiarchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiarchError);
  return error as MultiarchError;
}

describe('go-cross on a fixture module', () => {
  it('builds arm with GOARM=7 and the version, and the binary says linux/arm/v7 under qemu', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const result = await buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'linux/arm/v7', version: 'v1.2.3' });
    expect(result.binaries).toEqual(['go-hello']);
    // Named after --arch as given, which is what Nx's {options.arch} output path says.
    const out = outputDir(root, 'cross', PROJECT, 'linux/arm/v7');
    expect(listDir(out)).toEqual(['go-hello']);
    expect(await runUnderQemu(PLATFORMS.arm, join(out, 'go-hello'), ['--version'])).toBe('go-hello v1.2.3 linux/arm/v7');
  });

  it('builds several mains in one go build, with the version from the environment', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const ctx = crossContextFor(root, PROJECT, projectRoot, { ...process.env, NX_MULTIARCH_VERSION: 'v9.0.0-env' });
    const result = await buildGoCross(ctx, { arch: 'arm64', main: ['.', 'cmd/hello-helper'] });
    expect(result.binaries).toEqual(['go-hello', 'hello-helper']);
    const out = outputDir(root, 'cross', PROJECT, 'arm64');
    expect(listDir(out)).toEqual(['go-hello', 'hello-helper']);
    expect(await runUnderQemu(PLATFORMS.arm64, join(out, 'go-hello'), ['--version'])).toBe('go-hello v9.0.0-env linux/arm64');
    expect(await runUnderQemu(PLATFORMS.arm64, join(out, 'hello-helper'), [])).toBe('hello-helper arm64');
  });

  it('names one binary with outputName and sets another version variable', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    await buildGoCross(crossContextFor(root, PROJECT, projectRoot), {
      arch: 'amd64',
      outputName: 'hello',
      versionVariable: 'main.version',
      version: 'v0.0.1',
    });
    const out = outputDir(root, 'cross', PROJECT, 'amd64');
    expect(listDir(out)).toEqual(['hello']);
    expect(await runUnderQemu(PLATFORMS.amd64, join(out, 'hello'), ['--version'])).toBe('go-hello v0.0.1 linux/amd64');
  });

  it('gives byte-identical binaries from two clones at different paths, each compiled with its own Go caches', async () => {
    const a = workspaceWith(FIXTURE, PROJECT, 'a');
    const b = workspaceWith(FIXTURE, PROJECT, 'another/place/b');
    for (const [label, clone] of [['a', a], ['b', b]] as const) {
      const caches = ownGoCaches(label);
      const before = goCacheOutputs(caches.gocache);
      await buildGoCross(crossContextFor(clone.root, PROJECT, clone.projectRoot, caches.env), { arch: 'arm64', main: ['.', './cmd/hello-helper'] });
      // Each clone compiled everything itself (the standard library included), reusing nothing of the other's.
      expect(goCacheOutputs(caches.gocache) - before).toBeGreaterThan(20);
    }
    for (const file of ['go-hello', 'hello-helper']) {
      const left = join(outputDir(a.root, 'cross', PROJECT, 'arm64'), file);
      const right = join(outputDir(b.root, 'cross', PROJECT, 'arm64'), file);
      expect([file, sha256File(left)]).toEqual([file, sha256File(right)]);
      expect(readFileSync(right).includes(Buffer.from(b.root))).toBe(false);
    }
  });
});

describe('go-cross builds of one module side by side', () => {
  it('take turns per arch, so Go compiles the packages they share once; a build for another arch does not wait', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT, 'side-by-side');
    // An empty GOCACHE: the first build compiles the standard library for arm64, which takes seconds.
    const caches = ownGoCaches('side-by-side');
    const hello = crossContextFor(root, PROJECT, projectRoot, caches.env);
    const helper = crossContextFor(root, 'hello-helper', projectRoot, caches.env);
    const otherArch = crossContextFor(root, 'hello-amd64', projectRoot, caches.env);
    await Promise.all([
      buildGoCross(hello, { arch: 'arm64' }),
      buildGoCross(helper, { arch: 'arm64', main: ['cmd/hello-helper'] }),
      buildGoCross(otherArch, { arch: 'amd64' }),
    ]);
    const waited = (ctx: TestContext) => ctx.lines.some((line) => /waiting for pid \d+, which builds this module for linux\/arm64/.test(line));
    expect([waited(hello), waited(helper)].sort()).toEqual([false, true]);
    expect(otherArch.lines.some((line) => line.includes('which builds this module'))).toBe(false);
    expect(await runUnderQemu(PLATFORMS.arm64, join(outputDir(root, 'cross', PROJECT, 'arm64'), 'go-hello'), ['--version'])).toMatch(/^go-hello .* linux\/arm64$/);
    expect(await runUnderQemu(PLATFORMS.arm64, join(outputDir(root, 'cross', 'hello-helper', 'arm64'), 'hello-helper'), [])).toBe('hello-helper arm64');
    expect(await runUnderQemu(PLATFORMS.amd64, join(outputDir(root, 'cross', 'hello-amd64', 'amd64'), 'go-hello'), ['--version'])).toMatch(/^go-hello .* linux\/amd64$/);
  });
});

describe('go-cross for CLI release assets (darwin, windows)', () => {
  // One real foreign build (Go compiles its std for the new system: the costly part); the Mach-O check is unit-tested.
  it('builds a windows/amd64 binary with a Linkerd-named asset and its checksum beside it', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const ctx = crossContextFor(root, PROJECT, projectRoot);
    const result = await buildGoCross(ctx, { arch: 'amd64', os: 'windows', outputName: 'linkerd', version: 'v2.14.0', releaseName: 'linkerd2-cli' });
    expect(result.binaries).toEqual(['linkerd.exe']);
    const out = outputDir(root, 'cross', PROJECT, 'windows-amd64');
    expect(listDir(out)).toEqual(['linkerd.exe', 'linkerd2-cli-v2.14.0-windows-amd64.exe', 'linkerd2-cli-v2.14.0-windows-amd64.exe.sha256']);
    expect(readFileSync(join(out, 'linkerd2-cli-v2.14.0-windows-amd64.exe.sha256'), 'utf8')).toBe(`${sha256File(join(out, 'linkerd.exe'))}\n`);
    const exe = readFileSync(join(out, 'linkerd.exe'));
    // PE, machine x86-64.
    expect(exe.toString('latin1', 0, 2)).toBe('MZ');
    expect(exe.readUInt16LE(exe.readUInt32LE(0x3c) + 4)).toBe(0x8664);
  });

  it('refuses cgo for darwin before building, leaving nothing in dist', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', os: 'darwin', cgo: true }));
    expect(error.message).toMatch(/builds darwin binaries without cgo/);
    expect(existsSync(outputDir(root, 'cross', PROJECT, 'darwin-arm64'))).toBe(false);
  });
});

describe('go-cross errors leave nothing in dist', () => {
  it('refuses an unknown arch and lists the supported ones', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'sparc64' }));
    expect(error.message).toBe('Unsupported arch "sparc64".');
    expect(error.hint).toContain('amd64, arm64, arm, ppc64le, s390x, riscv64');
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('names a missing go and removes the stale output', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const out = outputDir(root, 'cross', PROJECT, 'arm64');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'go-hello'), 'stale');
    const error = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot, pathWithOnly({})), { arch: 'arm64' }));
    expect(error.message).toBe('go is not on PATH.');
    expect(error.hint).toContain('golang-go');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a package that is not main, and a compile error leaves no half output', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const notMain = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', main: 'lib' }));
    expect(notMain.message).toBe('example.com/go-hello/lib is package lib, not a main package.');

    writeFileSync(join(root, projectRoot, 'cmd/hello-helper/broken.go'), 'package main\n\nfunc broken() int { return "x" }\n');
    const broken = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', main: ['.', 'cmd/hello-helper'] }));
    expect(broken.message).toMatch(/^go build for linux\/arm64 failed with exit code [1-9]/);
    expect(broken.message).toContain('broken.go');
    // Not even the binary that did compile: the whole output appears at once or not at all.
    expect(listDir(join(root, 'dist/cross', PROJECT))).toEqual([]);
  });

  it('refuses a cwd without go.mod', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildGoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', cwd: `${projectRoot}/cmd` }));
    expect(error.message).toMatch(/^No go.mod in /);
  });
});
