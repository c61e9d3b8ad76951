import type { ChildProcess } from 'node:child_process';

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
