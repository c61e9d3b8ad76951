import { PLATFORMS } from '../platform/platforms';
import { run, which } from '../util/exec';
import { debianGccPackage, hasRustStd, requireGo, requireLinker, requireStrip, resolveRustToolchain, rustStdHint, rustSysroot } from './toolchain-preflight';

describe('preflight', () => {
  it('finds the host std in the system sysroot and no std for a target nobody installed', () => {
    expect(hasRustStd('/usr', 'x86_64-unknown-linux-gnu')).toBe(true);
    expect(hasRustStd('/usr', 'riscv64gc-unknown-linux-musl')).toBe(false);
  });

  it('resolves the system toolchain to Debian’s cargo and rustc', async () => {
    expect(await resolveRustToolchain('system', process.env)).toEqual({ name: 'system', cargo: '/usr/bin/cargo', rustc: '/usr/bin/rustc' });
  });

  it('spells Debian package names as Debian does', () => {
    expect(debianGccPackage(PLATFORMS.amd64)).toBe('gcc-x86-64-linux-gnu');
    expect(debianGccPackage(PLATFORMS.arm)).toBe('gcc-arm-linux-gnueabihf');
  });

  it('names the package for a missing linker, strip or go', () => {
    const env = { PATH: '' };
    expect(() => requireLinker('s390x-linux-gnu-gcc', PLATFORMS.s390x, env, false)).toThrow('The linker s390x-linux-gnu-gcc for s390x is not on PATH.');
    expect(() => requireStrip(PLATFORMS.ppc64le, env)).toThrow('powerpc64le-linux-gnu-strip, which strips ppc64le binaries, is not on PATH.');
    expect(() => requireGo(env)).toThrow('go is not on PATH.');
  });

  it('gives the fix that fits the toolchain for a missing std', () => {
    const triple = 'aarch64-unknown-linux-gnu';
    expect(rustStdHint({ name: 'system', cargo: '', rustc: '' }, triple, PLATFORMS.arm64)).toContain('libstd-rust-web-dev:arm64');
    expect(rustStdHint({ name: 'stable', cargo: '', rustc: '' }, triple, PLATFORMS.arm64)).toContain(`rustup target add ${triple} --toolchain stable`);
  });
});

describe('rustSysroot', () => {
  it('agrees with rustc --print sysroot for the system toolchain and a rustup proxy', async () => {
    const system = { name: 'system', cargo: '/usr/bin/cargo', rustc: '/usr/bin/rustc' };
    expect(await rustSysroot(system, process.env)).toBe((await run('/usr/bin/rustc', ['--print', 'sysroot'])).stdout.trim());
    const onPath = which('rustc');
    if (onPath) {
      const path = { name: 'path', cargo: '', rustc: onPath };
      expect(await rustSysroot(path, process.env)).toBe((await run(onPath, ['--print', 'sysroot'])).stdout.trim());
    }
  });
});

describe('hints for what the set-up script does not cover', () => {
  it('points riscv64 and musl at rustup instead of tools/setup.sh', () => {
    const system = { name: 'system', cargo: '', rustc: '' };
    expect(rustStdHint(system, 'riscv64gc-unknown-linux-gnu', PLATFORMS.riscv64)).toBe(
      'Debian 12 packages no Rust std for riscv64gc-unknown-linux-gnu: set the cargo-cross option "toolchain" to a rustup toolchain and run "rustup target add riscv64gc-unknown-linux-gnu --toolchain <name>".',
    );
    expect(rustStdHint(system, 'aarch64-unknown-linux-musl', PLATFORMS.arm64)).toContain('Debian 12 packages no Rust std');
    expect(() => requireLinker('riscv64-linux-gnu-gcc', PLATFORMS.riscv64, { PATH: '' }, false)).toThrow(
      expect.objectContaining({
        hint: 'Install the cross linker: apt-get install gcc-riscv64-linux-gnu libc6-dev-riscv64-cross, or set the "linker" option.',
      }),
    );
  });
});
