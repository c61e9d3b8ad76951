import { MultiarchError } from '../errors';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `90s`, `30m`, `12h`, `7d`, `2w` → milliseconds. */
export function parseDuration(value: string, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(value);
  if (!match) throw new MultiarchError(`${option} ${value} is not a duration.`, 'Write a number with a unit: 90s, 30m, 12h, 7d, 2w.');
  const ms = Math.round(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  if (!Number.isSafeInteger(ms) || ms < 1000) throw new MultiarchError(`${option} ${value} is out of range.`, 'Give at least 1s.');
  return ms;
}
