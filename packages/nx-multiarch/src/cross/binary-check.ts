import { open } from 'node:fs/promises';
import { MultiarchError } from '../errors';
import { checkElfArch } from '../platform/elf';
import type { PlatformSpec } from '../platform/platforms';

/**
 * Checks a built binary's ELF header against the target arch before it is
 * packaged. A cross build that silently produced a host binary (a wrong
 * --target, a GOARCH lost on the way) fails here instead of in an image.
 */
export async function checkBinaryArch(path: string, platform: PlatformSpec, name: string): Promise<void> {
  const handle = await open(path, 'r');
  let header: Buffer;
  try {
    // The identifying fields sit in the first 20 bytes; 64 covers the whole ELF64 header.
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    header = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (!checkElfArch(header, platform, name)) {
    throw new MultiarchError(
      `${name} is not an ELF binary, so it cannot be a linux/${platform.arch} executable.`,
      'Check that the build produced a Linux executable (GOOS=linux, a linux Rust target).',
    );
  }
}
