import { MultiarchError } from '../errors';

/**
 * The timestamp written into packages (tar mtimes). It comes from the
 * SOURCE_DATE_EPOCH environment variable (a declared cache input) or is 0, and
 * never from the clock or from git, so the bytes depend only on the inputs Nx
 * hashes and on nothing about the checkout.
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw.trim() === '') return 0;
  if (!/^\d+$/.test(raw.trim())) {
    throw new MultiarchError(
      `SOURCE_DATE_EPOCH="${raw}" is not a whole number of seconds.`,
      'Set it to seconds since 1970 (for example: export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)), or unset it.',
    );
  }
  return Number(raw.trim());
}
