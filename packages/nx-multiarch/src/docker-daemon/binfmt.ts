import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { PLATFORMS, type Arch } from '../platform/platforms';
import { enableBinfmtHint, registerBinfmtHint, reregisterBinfmtHint, type DockerUse } from './hints';

/**
 * binfmt_misc, the kernel's hand-off of foreign binaries to qemu: what a
 * local docker daemon needs to RUN (engine) or start (runner) a container of
 * another arch. The registration must have the F flag: the kernel then opens
 * the interpreter when it is registered, so it works inside containers whose
 * root file system has no qemu.
 */
export const DEFAULT_BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export interface BinfmtEntry {
  enabled: boolean;
  interpreter?: string;
  flags: string;
}

export function parseBinfmtEntry(text: string): BinfmtEntry {
  const lines = text.split('\n').map((l) => l.trim());
  return {
    enabled: lines[0] === 'enabled',
    interpreter: lines.find((l) => l.startsWith('interpreter '))?.slice('interpreter '.length),
    flags: lines.find((l) => l.startsWith('flags:'))?.slice('flags:'.length).trim() ?? '',
  };
}

export interface BinfmtCheck extends DockerUse {
  /** What needs the arch's binaries run, for the message: `RUN on line 7`, `the docker runner`. */
  purpose: string;
  /** Where binfmt_misc is mounted (a parameter so tests can point it at a fixture). */
  binfmtDir?: string;
}

/** Throws, naming the fix, unless binfmt_misc hands `arch` binaries to qemu with the F flag. */
export async function checkBinfmt(arch: Arch, check: BinfmtCheck): Promise<void> {
  const binfmtDir = check.binfmtDir ?? DEFAULT_BINFMT_DIR;
  const qemu = PLATFORMS[arch].qemu;
  const entry = join(binfmtDir, qemu);
  let text: string;
  try {
    text = await readFile(entry, 'utf8');
  } catch {
    throw new MultiarchError(
      `${check.purpose}: binfmt_misc has no ${qemu} registration (${entry} is missing), so the docker daemon cannot execute ${arch} binaries.`,
      registerBinfmtHint(qemu, binfmtDir, check),
    );
  }
  const parsed = parseBinfmtEntry(text);
  if (!parsed.enabled) {
    throw new MultiarchError(`${check.purpose}: the binfmt_misc registration ${entry} is disabled.`, enableBinfmtHint(entry, check));
  }
  if (!parsed.flags.includes('F')) {
    // Without F the kernel opens the interpreter path inside the container, where there is no qemu.
    throw new MultiarchError(
      `${check.purpose}: the binfmt_misc registration ${entry} lacks the F flag, so containers cannot find its interpreter ${parsed.interpreter ?? ''}.`.replace(' .', '.'),
      reregisterBinfmtHint(qemu, entry, binfmtDir, check),
    );
  }
}
