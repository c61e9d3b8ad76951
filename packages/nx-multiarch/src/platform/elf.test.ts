import { readFileSync } from 'node:fs';
import { checkElfArch, readElfHeader } from './elf';
import { PLATFORMS } from './platforms';

/** A minimal ELF identification + e_machine, as the first 20 bytes of a real header. */
function elfHeader(elfClass: number, endianness: number, machine: number): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, elfClass, endianness, 1]).copy(b);
  if (endianness === 2) b.writeUInt16BE(machine, 18);
  else b.writeUInt16LE(machine, 18);
  return b;
}

describe('ELF arch check', () => {
  it('reads the running node binary as this host arch', () => {
    const header = readElfHeader(readFileSync(process.execPath));
    expect(header).toBeDefined();
    if (process.arch === 'x64') expect(checkElfArch(readFileSync(process.execPath), PLATFORMS.amd64, 'node')).toBe(true);
  });

  it('refuses an amd64 binary for arm64 and names both arches', () => {
    expect(() => checkElfArch(elfHeader(2, 1, 62), PLATFORMS.arm64, 'bin/controller')).toThrow(
      'bin/controller is an ELF binary for amd64, not arm64.',
    );
  });

  it('tells 32-bit arm from arm64 and big-endian s390x', () => {
    expect(checkElfArch(elfHeader(1, 1, 40), PLATFORMS.arm, 'x')).toBe(true);
    expect(() => checkElfArch(elfHeader(1, 1, 40), PLATFORMS.arm64, 'x')).toThrow(/for arm, not arm64/);
    expect(checkElfArch(elfHeader(2, 2, 22), PLATFORMS.s390x, 'x')).toBe(true);
  });

  it('passes over files that are not ELF', () => {
    expect(checkElfArch(Buffer.from('#!/bin/sh\necho hi\n'), PLATFORMS.arm, 'script')).toBe(false);
  });
});
