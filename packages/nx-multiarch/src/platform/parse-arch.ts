import { MultiarchError } from '../errors';
import { ARCHES, Arch, PLATFORMS, PlatformSpec } from './platforms';

/**
 * Usual spellings of each arch, as Docker, Go, Rust, Debian and uname write them.
 * Keys are lower case; a leading `linux/` is removed before the look-up.
 */
const ALIASES: Readonly<Record<string, Arch>> = {
  amd64: 'amd64',
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
  'arm64/v8': 'arm64',
  arm: 'arm',
  'arm/v7': 'arm',
  armv7: 'arm',
  armv7l: 'arm',
  armhf: 'arm',
  ppc64le: 'ppc64le',
  ppc64el: 'ppc64le',
  powerpc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

function unsupported(value: string): MultiarchError {
  return new MultiarchError(
    `Unsupported arch "${value}".`,
    `Use one of: ${ARCHES.join(', ')} (also accepted: x86_64, aarch64, arm/v7, linux/arm/v7, armv7, armhf, ppc64el).`,
  );
}

/** One arch, in any usual spelling, to its name in the table. */
export function parseArch(value: string): Arch {
  const key = value.trim().toLowerCase().replace(/^linux\//, '');
  const arch = ALIASES[key];
  if (!arch) throw unsupported(value);
  return arch;
}

/**
 * One arch or a comma list (`arm64,arm`, or an array from nx.json) to table
 * names, in the order given, without repeats.
 */
export function parseArchList(value: string | readonly string[]): Arch[] {
  const parts = (typeof value === 'string' ? value.split(',') : value).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) {
    throw new MultiarchError('No arch given.', `Pass --arch with one of: ${ARCHES.join(', ')}.`);
  }
  return [...new Set(parts.map(parseArch))];
}

/**
 * For executors that build one arch per task (Nx keys a task by project and
 * target, so each arch is its own task and its own cache entry).
 */
export function parseSingleArch(value: string | undefined, target: string): PlatformSpec {
  if (value === undefined || value.trim() === '') {
    throw new MultiarchError(`${target} needs an arch.`, `Pass --arch=<arch>, one of: ${ARCHES.join(', ')}.`);
  }
  const arches = parseArchList(value);
  if (arches.length > 1) {
    throw new MultiarchError(
      `${target} builds one arch per task, but --arch=${value} names ${arches.length}.`,
      `Run it once per arch (nx run-many -t ${target} --arch=${arches[0]}), or use the per-arch targets ${target}--<arch>.`,
    );
  }
  return PLATFORMS[arches[0]];
}
