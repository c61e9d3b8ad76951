import { PLATFORMS } from '../platform/platforms';
import { cargoTargetEnvKey, listOption, packageVersion, planCargoBuild, profileDir, remapFlags, rustTriple } from './cargo-plan';

const base = {
  platform: PLATFORMS.arm64,
  triple: 'aarch64-unknown-linux-gnu',
  hostTriple: 'x86_64-unknown-linux-gnu',
  workspaceRoot: '/src/ws',
  manifestPath: '/src/ws/packages/p/Cargo.toml',
  targetDir: '/src/ws/.nx-multiarch/cargo-target/p',
  cargoHome: '/home/u/.cargo',
  rustc: '/usr/bin/rustc',
  linker: 'aarch64-linux-gnu-gcc',
  profile: 'release',
  bins: ['p'],
  features: [],
  staticCrt: true,
  extraRustflags: [],
  sourceDateEpoch: 0,
  baseEnv: { PATH: '/usr/bin', RUSTFLAGS: '-C opt-level=1' },
};

describe('rustTriple', () => {
  it('takes the gnu triple from the table, and musl where the table has one', () => {
    expect(rustTriple(PLATFORMS.arm, 'gnu')).toBe('armv7-unknown-linux-gnueabihf');
    expect(rustTriple(PLATFORMS.arm, 'musl')).toBe('armv7-unknown-linux-musleabihf');
  });
  it('refuses musl for an arch without a musl triple, pointing at gnu', () => {
    expect(() => rustTriple(PLATFORMS.s390x, 'musl')).toThrow(/no musl Rust target for s390x/);
  });
});

describe('planCargoBuild', () => {
  it('gives build scripts and proc-macros the same settings in every arch\'s build, so switching arch rebuilds no host artifact', () => {
    const arm64 = planCargoBuild(base);
    const amd64 = planCargoBuild({ ...base, platform: PLATFORMS.amd64, triple: 'x86_64-unknown-linux-gnu', linker: 'x86_64-linux-gnu-gcc' });
    // The native triple keeps the default linker and C compiler (cc: the same gcc) ...
    expect(amd64.env.CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER).toBeUndefined();
    expect(amd64.env.CC_x86_64_unknown_linux_gnu).toBeUndefined();
    expect(amd64.env.AR_x86_64_unknown_linux_gnu).toBeUndefined();
    // ... and the host's C flags (path maps) are set alike whichever arch is built.
    expect(arm64.env.CFLAGS_x86_64_unknown_linux_gnu).toContain('-ffile-prefix-map=/src/ws=');
    expect(amd64.env.CFLAGS_x86_64_unknown_linux_gnu).toBe(arm64.env.CFLAGS_x86_64_unknown_linux_gnu);
    const hostVariables = (env: NodeJS.ProcessEnv) => Object.keys(env).filter((k) => /X86_64_UNKNOWN_LINUX_GNU|x86_64_unknown_linux_gnu/.test(k)).sort();
    expect(hostVariables(amd64.env)).toEqual(hostVariables(arm64.env));
    // A linker the user set for the host triple is theirs to keep.
    const chosen = planCargoBuild({ ...base, baseEnv: { CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER: 'clang' } });
    expect(chosen.env.CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER).toBe('clang');
  });

  it('builds for the triple with the table linker, a fixed target dir and the chosen bins', () => {
    const plan = planCargoBuild({ ...base, bins: ['a', 'b'], features: ['x', 'y'] });
    expect(plan.args).toEqual([
      'build', '--manifest-path', base.manifestPath, '--target', 'aarch64-unknown-linux-gnu', '--target-dir', base.targetDir,
      '--profile', 'release', '--locked', '--offline', '--bin', 'a', '--bin', 'b', '--features', 'x,y',
    ]);
    expect(plan.env.CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER).toBe('aarch64-linux-gnu-gcc');
    expect(plan.env.CC_aarch64_unknown_linux_gnu).toBe('aarch64-linux-gnu-gcc');
    expect(plan.env.RUSTC).toBe('/usr/bin/rustc');
    expect(plan.artifacts).toEqual([
      { name: 'a', path: '/src/ws/.nx-multiarch/cargo-target/p/aarch64-unknown-linux-gnu/release/a' },
      { name: 'b', path: '/src/ws/.nx-multiarch/cargo-target/p/aarch64-unknown-linux-gnu/release/b' },
    ]);
  });

  it('links the C runtime statically and remaps the checkout and cargo home out of the binary', () => {
    const plan = planCargoBuild({ ...base, extraRustflags: ['-C', 'opt-level=1'] });
    expect(plan.rustflags).toEqual([
      '-C', 'target-feature=+crt-static',
      '--remap-path-prefix=/src/ws=/nx-workspace',
      '--remap-path-prefix=/home/u/.cargo=/cargo-home',
      '-C', 'opt-level=1',
    ]);
    expect(plan.env.CARGO_ENCODED_RUSTFLAGS).toBe(plan.rustflags.join('\x1f'));
    // RUSTFLAGS would be ignored next to CARGO_ENCODED_RUSTFLAGS; its content was merged in by the caller.
    expect(plan.env.RUSTFLAGS).toBeUndefined();
    expect(plan.env.CARGO_INCREMENTAL).toBe('0');
    expect(plan.env.SOURCE_DATE_EPOCH).toBe('0');
  });

  it('gives C compiled by build scripts the cross gcc, its ar and prefix maps, after the user\'s own CFLAGS', () => {
    const plan = planCargoBuild(base);
    expect(plan.env.AR_aarch64_unknown_linux_gnu).toBe('aarch64-linux-gnu-ar');
    expect(plan.env.CFLAGS_aarch64_unknown_linux_gnu).toBe('-ffile-prefix-map=/src/ws=/nx-workspace -ffile-prefix-map=/home/u/.cargo=/cargo-home');
    const user = planCargoBuild({ ...base, baseEnv: { CFLAGS: '-O1', CC_aarch64_unknown_linux_gnu: 'clang --target=aarch64-linux-gnu' } });
    expect(user.env.CFLAGS_aarch64_unknown_linux_gnu).toMatch(/^-O1 -ffile-prefix-map=/);
    expect(user.env.CC_aarch64_unknown_linux_gnu).toBe('clang --target=aarch64-linux-gnu');
  });

  it('leaves out crt-static when asked and keeps a CC the user set', () => {
    const plan = planCargoBuild({ ...base, staticCrt: false, baseEnv: { CC_aarch64_unknown_linux_gnu: 'clang' } });
    expect(plan.rustflags).not.toContain('target-feature=+crt-static');
    expect(plan.env.CC_aarch64_unknown_linux_gnu).toBe('clang');
  });

  it('remaps a target dir outside the checkout too', () => {
    expect(remapFlags('/ws', '/tmp/t', '/h/.cargo')).toEqual([
      '--remap-path-prefix=/ws=/nx-workspace',
      '--remap-path-prefix=/tmp/t=/nx-target',
      '--remap-path-prefix=/h/.cargo=/cargo-home',
    ]);
  });

  it('finds dev-profile binaries under debug', () => {
    expect(profileDir('dev')).toBe('debug');
    expect(profileDir('release')).toBe('release');
    expect(profileDir('dist')).toBe('dist');
    expect(planCargoBuild({ ...base, profile: 'dev' }).artifacts[0].path).toContain('/aarch64-unknown-linux-gnu/debug/p');
  });
});

describe('helpers', () => {
  it('spells the env key of a triple as cargo does', () => {
    expect(cargoTargetEnvKey('armv7-unknown-linux-gnueabihf')).toBe('ARMV7_UNKNOWN_LINUX_GNUEABIHF');
  });
  it('reads list options from the command line and from project.json alike', () => {
    expect(listOption('a,b, c')).toEqual(['a', 'b', 'c']);
    expect(listOption(['a', 'b'])).toEqual(['a', 'b']);
    expect(listOption(undefined)).toEqual([]);
    expect(listOption(['-C opt-level=2'], /\s+/)).toEqual(['-C', 'opt-level=2']);
    expect(listOption('-C  opt-level=2 ', /\s+/)).toEqual(['-C', 'opt-level=2']);
  });
});

describe('packageVersion', () => {
  it('takes the option, else the environment variable, else Cargo.toml', () => {
    expect(packageVersion({}, {}, '0.1.0')).toEqual({ version: '0.1.0', from: 'Cargo.toml' });
    expect(packageVersion({}, { NX_MULTIARCH_VERSION: 'v2.14.0' }, '0.1.0')).toEqual({ version: 'v2.14.0', from: 'NX_MULTIARCH_VERSION' });
    expect(packageVersion({ versionEnv: 'LINKERD2_PROXY_VERSION' }, { NX_MULTIARCH_VERSION: 'x', LINKERD2_PROXY_VERSION: 'v2.15.0' }, '0.1.0').version).toBe('v2.15.0');
    expect(packageVersion({ version: '3.0.0' }, { NX_MULTIARCH_VERSION: 'v2.14.0' }, '0.1.0')).toEqual({ version: '3.0.0', from: 'the "version" option' });
  });

  it('refuses a version that cannot be part of a file name, naming where it came from', () => {
    expect(() => packageVersion({}, { NX_MULTIARCH_VERSION: '../v1' }, '0.1.0')).toThrow(/"\.\.\/v1" \(from NX_MULTIARCH_VERSION\) cannot be part of a file name/);
  });
});
