import { MultiarchError } from '../errors';
import { ARCHES, PLATFORMS, PlatformSpec } from './platforms';

/**
 * ELF header checks. The header's class, byte order and e_machine say which
 * arch a binary is for (not the arm variant: that comes from the build), so
 * every ELF file put into a package or image is checked against the target —
 * elsewhere an amd64 binary once shipped in an arm64 image.
 */
export interface ElfHeader {
  elfClass: number;
  endianness: number;
  machine: number;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** The identifying header fields, or undefined when the bytes are not ELF. */
export function readElfHeader(bytes: Buffer): ElfHeader | undefined {
  if (bytes.length < 20 || !bytes.subarray(0, 4).equals(ELF_MAGIC)) return undefined;
  const elfClass = bytes[4];
  const endianness = bytes[5];
  const machine = endianness === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18);
  return { elfClass, endianness, machine };
}

/** The table's arch whose ELF identity matches, for error messages. */
export function archOfElf(header: ElfHeader): string {
  const match = ARCHES.find((arch) => {
    const elf = PLATFORMS[arch].elf;
    return elf.machine === header.machine && elf.elfClass === header.elfClass && elf.endianness === header.endianness;
  });
  return match ?? `unknown (e_machine ${header.machine}, class ${header.elfClass}, data ${header.endianness})`;
}

/**
 * Throws when `bytes` is an ELF file for another arch. Returns true when it is
 * an ELF file of the right arch, false when it is not ELF at all.
 */
export function checkElfArch(bytes: Buffer, target: PlatformSpec, name: string): boolean {
  const header = readElfHeader(bytes);
  if (!header) return false;
  const want = target.elf;
  if (header.machine !== want.machine || header.elfClass !== want.elfClass || header.endianness !== want.endianness) {
    throw new MultiarchError(
      `${name} is an ELF binary for ${archOfElf(header)}, not ${target.arch}.`,
      `Build it for ${target.arch} (the cross target for --arch=${target.arch}) before putting it into a ${target.arch} package or image.`,
    );
  }
  return true;
}
