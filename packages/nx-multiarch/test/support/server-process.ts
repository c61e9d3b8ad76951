import type { ChildProcess } from 'node:child_process';

/**
 * Waits for a server a test started to say where it listens: resolves with
 * what `match` finds in its stdout so far (checked on every chunk). Rejects
 * with `failed('timeout')` after `timeoutMs`, or `failed(code)` when the
 * process exits first; the caller words both (with its log) and decides
 * whether a child that hangs is killed.
 */
export function waitForStdout(
  child: ChildProcess,
  match: (stdout: string) => string | undefined,
  timeoutMs: number,
  failed: (reason: 'timeout' | number | null) => Error,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(failed('timeout')), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const found = match(text);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(failed(code));
    });
  });
}

/**
 * Stops a server a test started: SIGTERM (so it can shut down as it would
 * for a user), then SIGKILL if it is still there after `graceMs`. Resolves
 * once the process is gone; one already gone is left alone. Only this child
 * is signalled, by its own handle.
 */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}
