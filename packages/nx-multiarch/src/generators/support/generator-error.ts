import { MultiarchError, formatError } from '../../errors';

/**
 * Nx prints only `error.message` when a generator throws, so the fix must be
 * part of the message; `hint` stays set for callers that read it.
 */
export function generatorError(message: string, hint: string): MultiarchError {
  return new MultiarchError(`${message}\n  hint: ${hint}`, hint);
}

/**
 * Runs a generator's checks and writes; a MultiarchError from any library
 * function (an unknown arch, a bad registry) is re-thrown with its hint in the
 * message. Nx flushes the Tree only when the generator returns, so a throw
 * leaves the workspace untouched.
 */
export async function withReadableErrors<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MultiarchError && error.hint && !error.message.includes('\n  hint: ')) {
      throw new MultiarchError(formatError(error), error.hint);
    }
    throw error;
  }
}
