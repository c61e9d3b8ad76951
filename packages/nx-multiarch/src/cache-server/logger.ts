/**
 * Where the server writes its lines. Only the method, path, status, sizes,
 * timing and the kind of token appear in a line — never a header value, so a
 * token cannot leak into a CI log.
 */
export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

export function streamLogger(out: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string, message: string) => out.write(`${new Date().toISOString()} ${level} ${message}\n`);
  return { info: (m) => line('info', m), error: (m) => line('error', m) };
}

export const silentLogger: Logger = { info: () => undefined, error: () => undefined };
