/**
 * Whether an ELF executable names a program interpreter (PT_INTERP), that is,
 * whether it is dynamically linked. Only a static binary of the host's arch can
 * run natively from an unpacked image without a chroot: a dynamic one would
 * load the host's libraries instead of the image's.
 */
const PT_INTERP = 3;

export function elfInterpreter(bytes: Buffer): string | undefined {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number) => Number(little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + phentsize > bytes.length) return undefined;
    if (u32(at) !== PT_INTERP) continue;
    const offset = is64 ? u64(at + 8) : u32(at + 4);
    const size = is64 ? u64(at + 32) : u32(at + 16);
    if (offset + size > bytes.length) return undefined;
    return bytes.subarray(offset, offset + size).toString('utf8').replace(/\0+$/, '');
  }
  return undefined;
}
