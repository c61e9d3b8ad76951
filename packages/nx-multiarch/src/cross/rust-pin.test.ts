import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORMS } from '../platform/platforms';
import { findRustPin, meetsPin, parsePinFile, parseRustcVersion, pinRequirement, type RustcVersion } from './rust-pin';
import { chooseForPin, parseRustupList, type RustCandidate } from './rust-select';

function version(line: string): RustcVersion {
  const parsed = parseRustcVersion(line);
  if (!parsed) throw new Error(`unparsed: ${line}`);
  return parsed;
}

describe('rust-toolchain pins', () => {
  it('reads the channel of rust-toolchain.toml and of the one-line rust-toolchain', () => {
    expect(parsePinFile('# pinned\n[toolchain]\nchannel = "1.90.0"\ncomponents = ["clippy"]\n', 'x')).toBe('1.90.0');
    expect(parsePinFile("[toolchain]\nprofile = 'minimal'\nchannel = 'nightly-2025-01-01' # dated\n", 'x')).toBe('nightly-2025-01-01');
    expect(parsePinFile('1.85.0\n', 'x')).toBe('1.85.0');
    expect(() => parsePinFile('[toolchain]\npath = "/opt/rust"\n', 'rust-toolchain.toml')).toThrow('rust-toolchain.toml has no [toolchain] channel.');
  });

  it('finds the nearest pin between the package and the workspace root, and none outside it', () => {
    const root = mkdtempSync(join(tmpdir(), 'nx-multiarch-pin-'));
    try {
      mkdirSync(join(root, 'rust', 'proxy'), { recursive: true });
      expect(findRustPin(join(root, 'rust', 'proxy'), root)).toBeUndefined();
      writeFileSync(join(root, 'rust', 'rust-toolchain'), 'stable\n');
      expect(findRustPin(join(root, 'rust', 'proxy'), root)).toEqual({ file: 'rust/rust-toolchain', channel: 'stable' });
      writeFileSync(join(root, 'rust', 'proxy', 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.85"\n');
      expect(findRustPin(join(root, 'rust', 'proxy'), root)).toEqual({ file: 'rust/proxy/rust-toolchain.toml', channel: '1.85' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('compares versions, not names', () => {
    const debian = version('rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)');
    expect(debian.text).toBe('1.85.0');
    expect(meetsPin(debian, pinRequirement('1.85.0', 'f'))).toBe(true);
    expect(meetsPin(debian, pinRequirement('1.85', 'f'))).toBe(true);
    expect(meetsPin(debian, pinRequirement('1.85.0-x86_64-unknown-linux-gnu', 'f'))).toBe(true);
    expect(meetsPin(debian, pinRequirement('1.85.1', 'f'))).toBe(false);
    expect(meetsPin(debian, pinRequirement('1.90.0', 'f'))).toBe(false);
    expect(meetsPin(debian, pinRequirement('stable', 'f'))).toBe(true);
    const nightly = version('rustc 1.97.0-nightly (0123abcd 2026-03-01)');
    expect(meetsPin(nightly, pinRequirement('1.97', 'f'))).toBe(false);
    expect(meetsPin(nightly, pinRequirement('nightly', 'f'))).toBe(true);
    expect(meetsPin(nightly, pinRequirement('nightly-2026-03-02', 'f'))).toBe(true);
    expect(meetsPin(nightly, pinRequirement('nightly-2026-04-01', 'f'))).toBe(false);
    expect(() => pinRequirement('my-custom', 'rust-toolchain.toml')).toThrow('pins the channel "my-custom"');
  });

  it('reads rustup toolchain list -v', () => {
    const text = 'stable-x86_64-unknown-linux-gnu (active, default) /home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu\nsystem /usr\n';
    expect(parseRustupList(text)).toEqual([
      { name: 'stable-x86_64-unknown-linux-gnu', path: '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu' },
      { name: 'system', path: '/usr' },
    ]);
  });
});

describe('chooseForPin', () => {
  const sysroot = mkdtempSync(join(tmpdir(), 'nx-multiarch-sysroot-'));
  afterAll(() => rmSync(sysroot, { recursive: true, force: true }));
  const triple = 'aarch64-unknown-linux-gnu';
  // Debian's sysroot has the aarch64 std; rustup's has none.
  const debianRoot = join(sysroot, 'debian');
  mkdirSync(join(debianRoot, 'lib', 'rustlib', triple, 'lib'), { recursive: true });
  writeFileSync(join(debianRoot, 'lib', 'rustlib', triple, 'lib', 'libstd-0123.rlib'), '');
  const debian: RustCandidate = { name: 'system', cargo: 'c', rustc: 'r', sysroot: debianRoot, source: 'debian', version: version('rustc 1.85.0 (4d91de4e4 2025-02-17)') };
  const rustup85: RustCandidate = { name: '1.85.0-x86_64-unknown-linux-gnu', cargo: 'c', rustc: 'r', sysroot: join(sysroot, 'rustup'), source: 'rustup', version: version('rustc 1.85.0 (4d91de4e4 2025-02-17)') };
  const stable: RustCandidate = { name: 'stable', cargo: 'c', rustc: 'r', sysroot: join(sysroot, 'rustup'), source: 'rustup', version: version('rustc 1.95.0 (aaaa 2026-04-01)') };

  it('takes the toolchain of the pinned release that has the target std', () => {
    expect(chooseForPin([rustup85, debian], { file: 'p/rust-toolchain.toml', channel: '1.85.0' }, triple, PLATFORMS.arm64)).toBe(debian);
  });

  it('names the pin, what is installed and the fix when no toolchain is that release', () => {
    expect(() => chooseForPin([debian, stable], { file: 'p/rust-toolchain.toml', channel: '1.90.0' }, triple, PLATFORMS.arm64)).toThrow(
      /p\/rust-toolchain.toml pins Rust "1.90.0", and no installed toolchain is that release. Installed: Debian's rustc 1.85.0 \(\/usr\/bin\), rustup "stable" \(1.95.0\)/,
    );
  });

  it('names the missing target std of the toolchain the pin chose, with the rustup command and the Debian way out', () => {
    let message = '';
    try {
      chooseForPin([debian, stable], { file: 'p/rust-toolchain.toml', channel: '1.95' }, triple, PLATFORMS.arm64);
    } catch (e) {
      message = `${(e as Error).message} ${(e as { hint?: string }).hint ?? ''}`;
    }
    expect(message).toContain('met by rustup "stable" (1.95.0), which has no std for aarch64-unknown-linux-gnu');
    expect(message).toContain('rustup target add aarch64-unknown-linux-gnu --toolchain stable');
    expect(message).toContain('channel = "1.85.0"');
  });
});
