import { stat } from 'node:fs/promises';
import { readFileHead } from '../oci/file-source';
import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import { archOfElf, readElfHeader } from '../platform/elf';
import type { PlatformSpec } from '../platform/platforms';
import { elfInterpreter } from './elf-interp';
import { envObject } from './process-spec';
import { resolveInRoot } from './root-path';
import type { ProcessSpec } from './types';

/**
 * What the program an image would run is, found in its unpacked root as
 * execve would find it: its path, whether it is static, and whether its ELF
 * header matches the image's arch. On an amd64 host a docker run of an arm64
 * image holding an amd64 binary succeeds (the kernel runs it natively), so
 * every runner checks this before starting anything.
 */
export interface ProgramFile {
  /** argv after following a script's `#!` line. */
  argv: string[];
  inImage: string;
  onHost: string;
  isStatic: boolean;
  /** Set when the ELF header names another arch than the image's. */
  mismatch?: { message: string; hint: string };
}

const HEADER_BYTES = 64 * 1024;

async function isExecutableFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return !!info && info.isFile() && (info.mode & 0o111) !== 0;
}

/** Finds argv[0] in the image: a path as given (relative to the workdir), or the first match on the image's PATH. */
export async function findProgram(root: string, name: string, spec: ProcessSpec): Promise<{ inImage: string; onHost: string }> {
  if (name.includes('/')) {
    const inImage = name.startsWith('/') ? name : posix.join(spec.workdir, name);
    const onHost = resolveInRoot(root, inImage, true);
    if (!(await isExecutableFile(onHost))) {
      throw new MultiarchError(`The image has no executable ${inImage}.`, 'Check ENTRYPOINT/CMD in the Dockerfile, or the entrypoint given to startImage.');
    }
    return { inImage, onHost };
  }
  const path = envObject(spec.env).PATH ?? '';
  for (const dir of path.split(':').filter(Boolean)) {
    const inImage = posix.join(dir, name);
    const onHost = resolveInRoot(root, inImage, true);
    if (await isExecutableFile(onHost)) return { inImage, onHost };
  }
  throw new MultiarchError(`"${name}" is not on the image's PATH (${path}).`, 'Use an absolute path in ENTRYPOINT, or add the program to the image.');
}

/** `#!/bin/sh -e` to ['/bin/sh', '-e'] (one optional argument, as Linux passes it). */
export function shebang(head: Buffer): string[] | undefined {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const end = head.indexOf(0x0a);
  const line = head.subarray(2, end < 0 ? head.length : end).toString('utf8').trim();
  const space = line.search(/\s/);
  return space < 0 ? [line] : [line.slice(0, space), line.slice(space).trim()];
}

export async function inspectProgram(root: string, spec: ProcessSpec, platform: PlatformSpec): Promise<ProgramFile> {
  let argv = [...spec.argv];
  let program = await findProgram(root, argv[0], spec);
  let head = await readFileHead(program.onHost, HEADER_BYTES);
  const interpreter = shebang(head);
  if (interpreter) {
    // qemu-user runs ELF files only: run a script's interpreter with the script, as the kernel would.
    argv = [...interpreter, program.inImage, ...argv.slice(1)];
    program = await findProgram(root, interpreter[0], spec);
    head = await readFileHead(program.onHost, HEADER_BYTES);
  }
  const elf = readElfHeader(head);
  if (!elf) {
    throw new MultiarchError(`${program.inImage} in the image is neither an ELF binary nor a script.`, 'Check that ENTRYPOINT names the program the image should run.');
  }
  const want = platform.elf;
  const mismatch =
    elf.machine !== want.machine || elf.elfClass !== want.elfClass || elf.endianness !== want.endianness
      ? {
          message: `${program.inImage} is an ELF binary for ${archOfElf(elf)}, but the image is ${platform.arch}.`,
          hint: `Build it for ${platform.arch} (the cross target with --arch=${platform.arch}) before putting it into the image.`,
        }
      : undefined;
  return { argv, ...program, isStatic: elfInterpreter(head) === undefined, mismatch };
}
