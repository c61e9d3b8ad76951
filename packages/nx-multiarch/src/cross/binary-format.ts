import { MultiarchError } from '../errors';
import type { GoOs } from './go-os';

/**
 * The header check of binaries for other systems, as cheap as the ELF one:
 * a Mach-O 64 for darwin, a PE for windows, with the machine of the arch. A
 * build that lost its GOOS or GOARCH on the way fails here, not on a user's Mac.
 */
const MACHO_CPU: Record<string, number> = { amd64: 0x01000007, arm64: 0x0100000c };
const PE_MACHINE: Record<string, number> = { amd64: 0x8664, arm64: 0xaa64 };

function describe(bytes: Buffer): string {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46) return 'an ELF (linux) binary';
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0xfeedfacf) return 'a Mach-O (darwin) binary';
  if (bytes.length >= 2 && bytes.toString('latin1', 0, 2) === 'MZ') return 'a PE (windows) binary';
  return 'no executable format go-cross knows';
}

/** Throws unless `bytes` (the file's first KiB or more) are an executable of `os` for `arch`. */
export function checkForeignBinary(bytes: Buffer, os: Exclude<GoOs, 'linux'>, arch: string, name: string): void {
  let machine: number | undefined;
  let want: number | undefined;
  if (os === 'darwin') {
    want = MACHO_CPU[arch];
    if (bytes.length >= 8 && bytes.readUInt32LE(0) === 0xfeedfacf) machine = bytes.readUInt32LE(4);
  } else {
    want = PE_MACHINE[arch];
    if (bytes.length >= 0x40 && bytes.toString('latin1', 0, 2) === 'MZ') {
      const pe = bytes.readUInt32LE(0x3c);
      if (pe + 6 <= bytes.length && bytes.readUInt32BE(pe) === 0x50450000) machine = bytes.readUInt16LE(pe + 4);
    }
  }
  if (machine === undefined || machine !== want) {
    const what = machine === undefined ? describe(bytes) : `a ${os} binary for another machine (0x${machine.toString(16)})`;
    throw new MultiarchError(`${name} is ${what}, not a ${os}/${arch} executable.`, `Check that the build ran with GOOS=${os} GOARCH=${arch} (the go-cross options "os" and "arch").`);
  }
}
