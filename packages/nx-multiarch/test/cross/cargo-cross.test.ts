import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { readTar } from '../../src/oci/tar';
import { buildCargoCross } from '../../src/cross/cargo-cross';
import { MultiarchError } from '../../src/errors';
import { PLATFORMS } from '../../src/platform/platforms';
import { which } from '../../src/util/exec';
import { outputDir } from '../../src/outputs/paths';
import {
  cleanUpTemp,
  crossContextFor,
  FIXTURES,
  listDir,
  pathWithOnly,
  runUnderQemu,
  sha256File,
  versionPlatform,
  workspaceWith,
} from './helpers';

/**
 * cargo-cross against a small fixture crate (two bins, a LICENSE): real
 * cross builds with Debian's toolchain, run under qemu-user, packaged, and
 * the errors a user meets when a piece is missing.
 */
jest.setTimeout(600_000);
afterAll(cleanUpTemp);

const FIXTURE = join(FIXTURES, 'rust-hello');
const PROJECT = 'rust-hello';

async function expectError(promise: Promise<unknown>): Promise<MultiarchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiarchError);
  return error as MultiarchError;
}

describe('cargo-cross on a fixture crate', () => {
  it('builds arm64, strips, packages like Linkerd, and the binary runs under qemu', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const ctx = crossContextFor(root, PROJECT, projectRoot);
    const result = await buildCargoCross(ctx, { arch: 'arm64' });
    const out = outputDir(root, 'cross', PROJECT, 'arm64');
    const stem = 'rust-hello-v0.3.1-linux-arm64';
    expect(listDir(out)).toEqual(['rust-hello', 'rust-hello-helper', `${stem}.tar.gz`, `${stem}.txt`]);
    expect(result.triple).toBe('aarch64-unknown-linux-gnu');
    expect(statSync(out).mode & 0o777).toBe(0o755);

    // The checksum file's first field is the tarball's sha256 (Linkerd's fetch step checks exactly this).
    const [hex, name] = readFileSync(join(out, `${stem}.txt`), 'utf8').trimEnd().split(/\s+/);
    expect(hex).toBe(sha256File(join(out, `${stem}.tar.gz`)));
    expect(name).toBe(`${stem}.tar.gz`);

    const entries = await readTar(gunzip(readFileSync(join(out, `${stem}.tar.gz`))));
    expect(entries.map((e) => e.path)).toEqual([stem, `${stem}/LICENSE`, `${stem}/rust-hello`, `${stem}/rust-hello-helper`]);
    expect(entries[1].content?.equals(readFileSync(join(FIXTURE, 'LICENSE')))).toBe(true);
    expect(entries[2].content?.equals(readFileSync(join(out, 'rust-hello')))).toBe(true);
    expect(entries[2].mode).toBe(0o755);

    expect(await runUnderQemu(PLATFORMS.arm64, join(out, 'rust-hello'), ['--version'])).toBe('rust-hello 0.3.1 linux/arm64');
    // Stripped: smaller than what cargo left (the fixture's release profile keeps symbols).
    const unstripped = join(root, '.nx-multiarch/cargo-target', PROJECT, 'arm64', 'aarch64-unknown-linux-gnu/release/rust-hello');
    expect(readFileSync(join(out, 'rust-hello')).length).toBeLessThan(readFileSync(unstripped).length);
  });

  it('builds only the bins asked for, without a package when package is false, with the dev profile', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    await buildCargoCross(crossContextFor(root, PROJECT, projectRoot), {
      arch: 'armhf',
      bins: 'rust-hello-helper',
      package: false,
      profile: 'dev',
    });
    // The folder is named after --arch as given (Nx's {options.arch}); the build is the table's arm.
    const out = outputDir(root, 'cross', PROJECT, 'armhf');
    expect(listDir(out)).toEqual(['rust-hello-helper']);
    expect(await runUnderQemu(PLATFORMS.arm, join(out, 'rust-hello-helper'), [])).toBe('rust-hello-helper 0.3.1');
  });

  it('gives byte-identical tarballs and binaries from two clones at different paths', async () => {
    const a = workspaceWith(FIXTURE, PROJECT, 'a');
    const b = workspaceWith(FIXTURE, PROJECT, 'somewhere/much/deeper/b');
    for (const clone of [a, b]) await buildCargoCross(crossContextFor(clone.root, PROJECT, clone.projectRoot), { arch: 'arm' });
    const files = ['rust-hello', 'rust-hello-helper', 'rust-hello-v0.3.1-linux-arm.tar.gz', 'rust-hello-v0.3.1-linux-arm.txt'];
    for (const file of files) {
      const left = join(outputDir(a.root, 'cross', PROJECT, 'arm'), file);
      const right = join(outputDir(b.root, 'cross', PROJECT, 'arm'), file);
      expect([file, sha256File(left)]).toEqual([file, sha256File(right)]);
    }
    // And no trace of either checkout path in the binary.
    const binary = readFileSync(join(outputDir(b.root, 'cross', PROJECT, 'arm'), 'rust-hello'));
    expect(binary.includes(Buffer.from(b.root))).toBe(false);
    expect(binary.includes(Buffer.from('somewhere/much/deeper'))).toBe(false);
  });
});

describe('cargo-cross release version and LICENSE', () => {
  it('names the package after the version the pipeline sets and takes the LICENSE from a folder above the crate', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    // An imported repository: the crate has no LICENSE of its own, the repository (packages/) has one.
    rmSync(join(root, projectRoot, 'LICENSE'));
    writeFileSync(join(root, 'packages', 'LICENSE'), 'Apache License 2.0 (repository root)\n');
    const ctx = crossContextFor(root, PROJECT, projectRoot, { ...process.env, LINKERD2_PROXY_VERSION: 'v2.14.0-rc1' });
    const result = await buildCargoCross(ctx, { arch: 'amd64', bins: 'rust-hello', versionEnv: 'LINKERD2_PROXY_VERSION' });
    const stem = 'rust-hello-v2.14.0-rc1-linux-amd64';
    expect(result.packageFile).toBe(`${stem}.tar.gz`);
    const out = outputDir(root, 'cross', PROJECT, 'amd64');
    const entries = await readTar(gunzip(readFileSync(join(out, `${stem}.tar.gz`))));
    expect(entries.find((e) => e.path === `${stem}/LICENSE`)?.content?.toString()).toBe('Apache License 2.0 (repository root)\n');
    expect(ctx.lines.join('\n')).toMatch(/rust-hello v2\.14\.0-rc1 \(from LINKERD2_PROXY_VERSION\)/);
  });
});

describe('cargo-cross errors leave nothing in dist', () => {
  /** A workspace with a stale output in place, which a failed build must remove. */
  function withStaleOutput(arch: string): { root: string; projectRoot: string; out: string } {
    const ws = workspaceWith(FIXTURE, PROJECT);
    const out = outputDir(ws.root, 'cross', PROJECT, arch);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'rust-hello'), 'stale');
    return { ...ws, out };
  }

  it('refuses an unknown arch and lists the supported ones', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'mips' }));
    expect(error.message).toBe('Unsupported arch "mips".');
    expect(error.hint).toContain('amd64, arm64, arm, ppc64le, s390x, riscv64');
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('names the missing linker and its Debian package', async () => {
    const { root, projectRoot, out } = withStaleOutput('arm64');
    const strip = which('aarch64-linux-gnu-strip') as string;
    const env = pathWithOnly({ 'aarch64-linux-gnu-strip': strip });
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot, env), { arch: 'arm64' }));
    expect(error.message).toBe('The linker aarch64-linux-gnu-gcc for arm64 is not on PATH.');
    expect(error.hint).toContain('apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross');
    expect(existsSync(out)).toBe(false);
    expect(listDir(join(root, 'dist/cross', PROJECT))).toEqual([]);
  });

  it('names a linker override that does not exist', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', linker: 'no-such-linker-gcc' }));
    expect(error.message).toBe('The linker no-such-linker-gcc for arm64 is not on PATH.');
    expect(error.hint).toContain('"linker" option');
  });

  it('says a user\'s CARGO_TARGET_<TRIPLE>_LINKER that does not exist does not exist, naming the variable', async () => {
    const { root, projectRoot, out } = withStaleOutput('arm64');
    const env = { ...process.env, CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: '/nonexistent/gcc' };
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot, env), { arch: 'arm64' }));
    expect(error.message).toBe('The linker /nonexistent/gcc (set by CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER) for arm64 does not exist.');
    expect(error.hint).toContain('Point CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER at an installed linker, or unset it');
    expect(existsSync(out)).toBe(false);
  });

  it('says an absolute --linker path that does not exist does not exist (not "not on PATH")', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', linker: '/opt/no-such/aarch64-gcc' }));
    expect(error.message).toBe('The linker /opt/no-such/aarch64-gcc (the "linker" option) for arm64 does not exist.');
    expect(error.hint).toContain('"linker" option');
  });

  it('refuses a "linker" option that disagrees with the user\'s CARGO_TARGET_<TRIPLE>_LINKER', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const gcc = which('aarch64-linux-gnu-gcc') as string;
    const env = { ...process.env, CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: gcc };
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot, env), { arch: 'arm64', linker: 'aarch64-linux-gnu-gcc-12' }));
    expect(error.message).toBe(`The "linker" option says aarch64-linux-gnu-gcc-12 but CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER says ${gcc}; cargo-cross will not pick one silently.`);
    expect(error.hint).toContain('Remove the "linker" option');
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('names a missing target std in the system toolchain (musl) and how to get it', async () => {
    const { root, projectRoot, out } = withStaleOutput('arm64');
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'arm64', libc: 'musl' }));
    expect(error.message).toMatch(/^The Rust std for aarch64-unknown-linux-musl is not installed in the toolchain "system"/);
    // Debian packages no musl std, so the fix is a rustup toolchain, not the set-up script.
    expect(error.hint).toContain('rustup target add aarch64-unknown-linux-musl');
    expect(error.hint).toContain('"toolchain"');
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing target std in a rustup toolchain with the rustup command', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 's390x', toolchain: 'stable' }));
    expect(error.message).toMatch(/^The Rust std for s390x-unknown-linux-gnu is not installed in the toolchain "stable"/);
    expect(error.hint).toContain('rustup target add s390x-unknown-linux-gnu --toolchain stable');
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('names a rustup toolchain that is not installed, and a cargo missing from PATH', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const notInstalled = await expectError(
      buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'amd64', toolchain: 'no-such-toolchain' }),
    );
    expect(notInstalled.message).toMatch(/rustup toolchain "no-such-toolchain" has no cargo/);
    const noCargo = await expectError(
      buildCargoCross(crossContextFor(root, PROJECT, projectRoot, pathWithOnly({})), { arch: 'amd64', toolchain: 'path' }),
    );
    expect(noCargo.message).toBe('cargo-cross with toolchain "path" found no cargo on PATH.');
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('names an unknown bin and lists the real ones', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    const error = await expectError(buildCargoCross(crossContextFor(root, PROJECT, projectRoot), { arch: 'amd64', bins: ['nope'] }));
    expect(error.message).toBe('The Cargo package rust-hello has no binary named nope.');
    expect(error.hint).toContain('rust-hello, rust-hello-helper');
  });
});

describe('the user\'s linker setting', () => {
  it('CARGO_TARGET_<TRIPLE>_LINKER wins over the default: cargo links with the user\'s linker', async () => {
    const { root, projectRoot } = workspaceWith(FIXTURE, PROJECT);
    // A linker wrapper that leaves a mark each time cargo calls it, then links with the cross gcc.
    const gcc = which('aarch64-linux-gnu-gcc') as string;
    const marks = join(root, 'linker-calls.txt');
    const wrapper = join(root, 'my-linker.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho called >> '${marks}'\nexec '${gcc}' "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: wrapper };
    const ctx = crossContextFor(root, PROJECT, projectRoot, env);
    await buildCargoCross(ctx, { arch: 'arm64' });
    // Two binaries, each linked by the wrapper.
    expect(readFileSync(marks, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
    expect(ctx.lines.join('\n')).toContain(`linker ${wrapper} (from CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER)`);
  });
});
