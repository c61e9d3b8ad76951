import { MultiarchError } from '../errors';
import { PLATFORMS } from '../platform/platforms';
import { run, which } from '../util/exec';
import { archRequirements } from '../cross/arch-requirements';
import { requireLinker, requireStrip } from '../cross/toolchain-preflight';
import { qemuMissing } from '../integration/runners/qemu';
import { parseSetupArgs, renderSetup } from './cli';

function caught(work: () => unknown): MultiarchError {
  try {
    work();
  } catch (error) {
    if (error instanceof MultiarchError) return error;
    throw error;
  }
  throw new Error('expected a MultiarchError');
}

describe('nx-multiarch setup', () => {
  it('on an amd64 runner, arm64 needs the cross gcc, binutils, libc start files, qemu-user and the rustup target', () => {
    const r = archRequirements({ arch: 'arm64', hostArch: 'amd64', rustToolchain: 'stable', integration: true });
    expect(r.aptPackages).toEqual(['gcc-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu', 'libc6-dev-arm64-cross', 'qemu-user-static']);
    expect(r.rust).toEqual({ toolchain: 'stable', targets: ['aarch64-unknown-linux-gnu'] });
  });

  it('on a native arm64 runner, arm64 needs no cross packages; qemu-user only for dynamically linked programs', () => {
    const r = archRequirements({ arch: 'arm64', hostArch: 'arm64', rustToolchain: 'stable', integration: true });
    expect(r.aptPackages).toEqual(['gcc', 'binutils', 'qemu-user-static']);
    expect(r.reasons.join('\n')).toContain('static programs run natively, without qemu');
    expect(archRequirements({ arch: 'arm64', hostArch: 'arm64', integration: false }).aptPackages).toEqual([]);
  });

  it('without Rust, a foreign arch needs only qemu-user; a build-only machine nothing', () => {
    expect(archRequirements({ arch: 's390x', hostArch: 'amd64', integration: true }).aptPackages).toEqual(['qemu-user-static']);
    expect(archRequirements({ arch: 's390x', hostArch: 'amd64', integration: false }).aptPackages).toEqual([]);
  });

  it('names the packages the preflight errors name: one list', () => {
    const env = { PATH: '' };
    for (const platform of [PLATFORMS.arm64, PLATFORMS.ppc64le, PLATFORMS.s390x]) {
      const packages = archRequirements({ arch: platform.arch, hostArch: 'amd64', rustToolchain: 'stable', integration: true }).aptPackages;
      const linkerHint = caught(() => requireLinker(`${platform.gccPrefix}-gcc`, platform, env, false)).hint ?? '';
      const stripHint = caught(() => requireStrip(platform, env)).hint ?? '';
      const qemuHint = qemuMissing(platform).hint ?? '';
      const named = [...`${linkerHint} ${stripHint} ${qemuHint}`.matchAll(/apt-get install ([a-z0-9. -]+?)(?:`| \(|,|\.$)/g)].flatMap((m) => m[1].split(' '));
      expect(new Set(named)).toEqual(new Set(packages));
    }
  });

  it('prints a script that records its command and checks bash syntax', async () => {
    const script = renderSetup(parseSetupArgs(['--arch', 'aarch64', '--rust-toolchain', '1.82.0', '--host-arch', 'x86_64', '--print']));
    expect(script).toContain('# Written by `nx-multiarch setup --arch arm64 --rust-toolchain 1.82.0 --host-arch amd64 --print`.');
    expect(script).toContain('for pkg in gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static; do');
    expect(script).toContain('  rustup toolchain install 1.82.0 --profile minimal --no-self-update\n');
    expect(script).toContain('for target in aarch64-unknown-linux-gnu; do');
    for (const host of ['amd64', 'arm64']) {
      for (const arch of ['amd64', 'arm64', 'arm', 'ppc64le', 's390x', 'riscv64']) {
        const text = renderSetup(parseSetupArgs(['--arch', arch, '--host-arch', host, '--rust-toolchain', 'stable']));
        const check = await run('bash', ['-n'], { input: text });
        expect({ arch, host, exitCode: check.exitCode, stderr: check.stderr }).toEqual({ arch, host, exitCode: 0, stderr: '' });
      }
    }
  });

  it('runs here: the packages tools/setup.sh installed are found installed, and nothing is downloaded', async () => {
    // This machine has the Debian packages of tools/setup.sh; the script must see them and skip apt.
    const script = renderSetup(parseSetupArgs(['--arch', 'arm64', '--host-arch', 'amd64']));
    const result = await run('bash', ['-c', script], { timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('nx-multiarch setup: qemu-user-static already installed\n');
    expect(result.exitCode).toBe(0);
    expect(which('qemu-aarch64-static', process.env)).toBeTruthy();
  });

  it('runs here with Rust: an installed toolchain and target are only checked, never updated', async () => {
    // The host's own target std is always in an installed rustup toolchain, so nothing is downloaded.
    const before = await run('rustc', ['+stable', '-V']);
    const script = renderSetup(parseSetupArgs(['--arch', 'amd64', '--host-arch', 'amd64', '--rust-toolchain', 'stable', '--no-integration']));
    const result = await run('bash', ['-c', script], { timeoutMs: 60_000 });
    expect(result.stdout).toBe('nx-multiarch setup: gcc, binutils already installed\nnx-multiarch setup: rust std for x86_64-unknown-linux-gnu already installed in stable\n');
    expect(result.exitCode).toBe(0);
    expect((await run('rustc', ['+stable', '-V'])).stdout).toBe(before.stdout);
  });

  it.each([
    [['--print'], /needs --arch/],
    [['--arch', 'mips'], /Unsupported arch "mips"/],
    [['--arch', 'arm64', '--rust-toolchain', 'system'], /"system" is not one rustup can install/],
    [['--arch', 'arm64', '--rust-toolchain', 'x;rm'], /Invalid Rust toolchain name/],
    [['--arch'], /--arch needs a value/],
    [['--arch', 'arm64', '--frobnicate'], /Unknown option "--frobnicate"/],
  ])('refuses %j with a hint', (argv, message) => {
    const error = caught(() => renderSetup(parseSetupArgs(argv)));
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });
});
