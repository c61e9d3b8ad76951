import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoCross } from '../../src/cross/go-cross';
import { MultiarchError } from '../../src/errors';
import { freePort } from '../../src/integration/free-port';
import { PLATFORMS } from '../../src/platform/platforms';
import { goEnvFacts } from '../../src/cross/go-toolchain';
import { compareGoVersions } from '../../src/cross/go-version';
import { outputDir } from '../../src/outputs/paths';
import { run, which } from '../../src/util/exec';
import { cleanUpTemp, crossContextFor, FIXTURES, listDir, pathWithOnly, tempDir, workspaceWith } from './helpers';

/**
 * go-cross with real dependencies and real toolchains: a module that needs
 * the module proxy once (go-deps, on pflag), the go line pins that can and
 * cannot be met, and cgo cross-compiled for three arches. Every bad input
 * must fail with the cause and the fix, and leave nothing in dist/.
 */
jest.setTimeout(600_000);
afterAll(cleanUpTemp);

const GO = which('go') as string;
/** Debian's Go 1.19, older than GOTOOLCHAIN: it cannot read a go line like 1.26.0. */
const DEBIAN_GO_119 = '/usr/lib/go-1.19/bin/go';

async function expectError(promise: Promise<unknown>): Promise<MultiarchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiarchError);
  return error as MultiarchError;
}

/** An environment with its own, empty module cache: nothing is fetched yet. */
function freshModuleCache(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // -modcacherw: the cache's files stay writable, so the temp folder can be removed.
  return { ...process.env, GOMODCACHE: tempDir('gomodcache'), GOFLAGS: '-modcacherw', ...extra };
}

/** Every file below a folder (empty folders do not count: a failed build may leave dist/cross/ itself). */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name) : [];
}

function setGoLine(root: string, projectRoot: string, line: string): void {
  const goMod = join(root, projectRoot, 'go.mod');
  writeFileSync(goMod, readFileSync(goMod, 'utf8').replace(/^go .*$/m, line));
}

describe('go-cross fetches modules once, then builds offline', () => {
  it('fetches once for two arches building side by side, then builds from the cache with the proxy unreachable', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-deps'), 'go-deps');
    const env = freshModuleCache();
    const arm64 = crossContextFor(root, 'go-deps', projectRoot, env);
    const arm = crossContextFor(root, 'go-deps', projectRoot, env);
    await Promise.all([buildGoCross(arm64, { arch: 'arm64' }), buildGoCross(arm, { arch: 'arm' })]);
    const fetches = [...arm64.lines, ...arm.lines].filter((line) => line.includes('go mod download through GOPROXY'));
    expect(fetches).toHaveLength(1);
    expect(existsSync(join(env.GOMODCACHE as string, 'github.com/spf13/pflag@v1.0.9'))).toBe(true);

    // The third arch needs no network at all: a proxy on a closed port is never asked.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const amd64 = crossContextFor(root, 'go-deps', projectRoot, { ...env, GOPROXY: closed });
    await buildGoCross(amd64, { arch: 'amd64' });
    expect(amd64.lines.join('\n')).toContain('modules from the module cache');
    expect(listDir(outputDir(root, 'cross', 'go-deps', 'amd64'))).toEqual(['go-deps']);
    const ran = await run(join(outputDir(root, 'cross', 'go-deps', 'amd64'), 'go-deps'), ['--name', 'proxy']);
    expect(ran.stdout).toBe('hello proxy from amd64\n');
  });

  it('names GOPROXY, go mod download and vendoring when the module proxy is unreachable', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-deps'), 'go-deps');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const env = freshModuleCache({ GOPROXY: closed });
    const error = await expectError(buildGoCross(crossContextFor(root, 'go-deps', projectRoot, env), { arch: 'arm64' }));
    expect(error.message).toContain(`GOPROXY (${closed}) is unreachable`);
    expect(error.message).toContain('github.com/spf13/pflag');
    expect(error.hint).toContain('go mod download');
    expect(error.hint).toContain('go mod vendor');
    expect(error.hint).not.toContain('"main"');
    expect(filesUnder(join(root, 'dist'))).toEqual([]);
  });
});

describe('go-cross honours the go line of go.mod', () => {
  it('builds a go 1.26.0 module with the installed Go and no toolchain fetch', async () => {
    const { installed } = await goEnvFacts(GO, process.env);
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-cgo'), 'go-cgo');
    const ctx = crossContextFor(root, 'go-cgo', projectRoot, { ...process.env, GOTOOLCHAIN: '' });
    await buildGoCross(ctx, { arch: 'amd64', cgo: true });
    expect(ctx.lines[0]).toBe(`go-cross: ${installed} (GOTOOLCHAIN=local, installed ${installed}); modules from the module cache`);
  });

  it('fetches the newer Go the toolchain line asks for through GOPROXY, then builds with it offline', async () => {
    const wanted = 'go1.26.9';
    const { installed } = await goEnvFacts(GO, process.env);
    if (compareGoVersions(installed, wanted) >= 0) {
      console.warn(`the installed ${installed} already meets ${wanted}: nothing to switch to`);
      return;
    }
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-deps'), 'go-deps');
    writeFileSync(join(root, projectRoot, 'go.mod'), `${readFileSync(join(root, projectRoot, 'go.mod'), 'utf8')}\ntoolchain ${wanted}\n`);
    // The machine's module cache: the ~70 MB toolchain is fetched once per machine, not once per test run.
    const ctx = crossContextFor(root, 'go-deps', projectRoot, { ...process.env, GOTOOLCHAIN: '' });
    await buildGoCross(ctx, { arch: 'arm64' });
    // The first run on a machine (empty module cache) first says what it fetches; the build's own line follows either way.
    const goCrossLine = ctx.lines.find((line) => line.startsWith('go-cross: ')) ?? '';
    expect(goCrossLine).toMatch(new RegExp(`^go-cross: ${wanted} \\(GOTOOLCHAIN=${wanted}, installed ${installed}\\)`));
    // The binary records the Go that compiled it.
    const version = await run(GO, ['version', join(outputDir(root, 'cross', 'go-deps', 'arm64'), 'go-deps')]);
    expect(version.stdout.trim().endsWith(`: ${wanted}`)).toBe(true);
  });

  it.each([['local'], ['auto']])('names the pin, the installed Go and the fix for go 1.99.0 with GOTOOLCHAIN=%s', async (setting) => {
    const { installed } = await goEnvFacts(GO, process.env);
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-deps'), 'go-deps');
    setGoLine(root, projectRoot, 'go 1.99.0');
    const error = await expectError(buildGoCross(crossContextFor(root, 'go-deps', projectRoot, freshModuleCache({ GOTOOLCHAIN: setting })), { arch: 'arm64' }));
    const text = `${error.message}\n${error.hint}`;
    expect(text).toMatch(/pins go 1\.99\.0|asks for go1\.99\.0/);
    expect(error.message).toContain(installed);
    expect(error.hint).toMatch(/lower the go/i);
    if (setting === 'local') expect(error.hint).toContain('GOTOOLCHAIN=auto');
    else expect(error.message).toContain('cannot be had');
    expect(error.hint).not.toContain('"main"');
    expect(filesUnder(join(root, 'dist'))).toEqual([]);
  });

  (existsSync(DEBIAN_GO_119) ? it : it.skip)('tells a Go too old to read the go line from a wrong "main" option', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-deps'), 'go-deps');
    const env = { ...pathWithOnly({ go: DEBIAN_GO_119 }), GOTOOLCHAIN: '' };
    const error = await expectError(buildGoCross(crossContextFor(root, 'go-deps', projectRoot, env), { arch: 'arm64' }));
    expect(error.message).toContain('pins go 1.26.0');
    expect(error.message).toMatch(/installed Go is go1\.19/);
    expect(error.hint).toContain('Go 1.21 or newer');
    expect(error.hint).not.toContain('"main"');
    expect(filesUnder(join(root, 'dist'))).toEqual([]);
  });
});

describe('go-cross with cgo', () => {
  const arches = [PLATFORMS.amd64, PLATFORMS.arm64, PLATFORMS.arm];

  it.each(arches.map((p) => [p.arch, p] as const))('cross-compiles C with the %s gcc, and the binary runs', async (_arch, platform) => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-cgo'), 'go-cgo');
    const ctx = crossContextFor(root, 'go-cgo', projectRoot);
    await buildGoCross(ctx, { arch: platform.arch, cgo: true });
    expect(ctx.lines.join('\n')).toContain(`CGO_ENABLED=1 CC=${platform.gccPrefix}-gcc`);
    const binary = join(outputDir(root, 'cross', 'go-cgo', platform.arch), 'go-cgo');
    // Linked against the target's glibc: qemu-user finds it under the cross sysroot.
    const result =
      platform.arch === 'amd64'
        ? await run(binary, [])
        : await run(`${platform.qemu}-static`, ['-L', `/usr/${platform.gccPrefix}`, binary], {
            env: { ...process.env, ...(platform.qemuCpu ? { QEMU_CPU: platform.qemuCpu } : {}) },
            timeoutMs: 60_000,
          });
    const bits = platform.oci.architecture === 'arm' ? 32 : 64;
    expect(result.stdout).toBe(`cgo ${platform.oci.architecture} ${bits}-bit checksum 177086237\n`);
  });

  it('names the Debian package when the cross C compiler is missing, and builds nothing', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-cgo'), 'go-cgo');
    const error = await expectError(buildGoCross(crossContextFor(root, 'go-cgo', projectRoot, pathWithOnly({ go: GO })), { arch: 'arm64', cgo: true }));
    expect(error.message).toBe('cgo needs the C compiler aarch64-linux-gnu-gcc for arm64, which is not on PATH.');
    expect(error.hint).toContain('apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross');
    expect(filesUnder(join(root, 'dist'))).toEqual([]);
  });

  it("uses the user's CC: an arm gcc for an arm64 build fails in go build", async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-cgo'), 'go-cgo');
    const ctx = crossContextFor(root, 'go-cgo', projectRoot, { ...process.env, CC: 'arm-linux-gnueabihf-gcc' });
    const error = await expectError(buildGoCross(ctx, { arch: 'arm64', cgo: true }));
    expect(ctx.lines.join('\n')).toContain('CC=arm-linux-gnueabihf-gcc');
    expect(error.message).toMatch(/^go build for linux\/arm64 failed/);
    expect(error.hint).toContain('cgo is on with arm-linux-gnueabihf-gcc');
    expect(filesUnder(join(root, 'dist'))).toEqual([]);
  });
});
