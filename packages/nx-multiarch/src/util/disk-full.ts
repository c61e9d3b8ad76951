import { MultiarchError } from '../errors';

/**
 * A full disk or quota as an error that names the folder that filled and
 * what was being written there, so the fix (free space there, or move that
 * folder) is obvious; any other error is returned as it is.
 */
export function asDiskFullError(error: unknown, dir: string, what: { writing: string; outcome?: string; hint: string }): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return new MultiarchError(`No space left in ${dir} while ${what.writing} (${code})${what.outcome ? `; ${what.outcome}` : ''}.`, what.hint);
}
