import { PLATFORMS } from '../platform/platforms';
import { checkForeignBinary } from './binary-format';
import { executableName, outputFolderName, parseGoOs, releaseAssetName } from './go-os';
import { goEnv } from './go-plan';

describe('go-cross for other systems', () => {
  it('sets GOOS and names files as the system and Linkerd expect', () => {
    expect(goEnv(PLATFORMS.arm64, {}, { enabled: false }, 'darwin')).toMatchObject({ GOOS: 'darwin', GOARCH: 'arm64', CGO_ENABLED: '0' });
    expect(executableName('linkerd', 'windows')).toBe('linkerd.exe');
    expect(executableName('linkerd', 'darwin')).toBe('linkerd');
    expect(outputFolderName('linux', 'arm64')).toBe('arm64');
    expect(outputFolderName('windows', 'amd64')).toBe('windows-amd64');
    expect(releaseAssetName('linkerd2-cli', 'stable-2.14.0', 'windows', 'amd64')).toBe('linkerd2-cli-stable-2.14.0-windows-amd64.exe');
    expect(releaseAssetName('linkerd2-cli', 'stable-2.14.0', 'darwin', 'arm64')).toBe('linkerd2-cli-stable-2.14.0-darwin-arm64');
  });

  it('refuses an unknown os, and an arch the os is not built for', () => {
    expect(() => parseGoOs('plan9', PLATFORMS.amd64)).toThrow(/Unknown go-cross os "plan9"/);
    expect(() => parseGoOs('darwin', PLATFORMS.arm)).toThrow(/go-cross builds darwin for amd64 and arm64, not arm/);
    expect(parseGoOs(undefined, PLATFORMS.arm)).toBe('linux');
  });

  it('checks Mach-O and PE headers for the machine of the arch', () => {
    const macho = Buffer.alloc(32);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    expect(() => checkForeignBinary(macho, 'darwin', 'arm64', 'linkerd')).not.toThrow();
    expect(() => checkForeignBinary(macho, 'darwin', 'amd64', 'linkerd')).toThrow(/linkerd is a darwin binary for another machine \(0x100000c\), not a darwin\/amd64 executable/);
    const pe = Buffer.alloc(0x100);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.writeUInt32BE(0x50450000, 0x80);
    pe.writeUInt16LE(0x8664, 0x84);
    expect(() => checkForeignBinary(pe, 'windows', 'amd64', 'linkerd.exe')).not.toThrow();
    const elf = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    expect(() => checkForeignBinary(elf, 'windows', 'amd64', 'linkerd.exe')).toThrow(/linkerd.exe is an ELF \(linux\) binary, not a windows\/amd64 executable[\s\S]*/);
  });
});
