/**
 * The one error type the plugin throws on purpose. `message` names the problem;
 * `hint` names the fix. Executors print both and return `{ success: false }`.
 */
export class MultiarchError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'MultiarchError';
  }
}

/** Text for a terminal: the message, then the fix on its own line. */
export function formatError(error: unknown): string {
  if (error instanceof MultiarchError) {
    return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
