import { MultiarchError } from '../errors';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** `1048576`, `500MB`, `2GiB`, `1.5g` → bytes. */
export function parseSize(value: string, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new MultiarchError(`${option} ${value} is not a size.`, 'Write bytes or a number with a unit: 500MB, 2GiB (k, M, G are powers of 1000; KiB, MiB, GiB of 1024).');
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new MultiarchError(`${option} ${value} is out of range.`, 'Give at least 1 byte.');
  return bytes;
}
