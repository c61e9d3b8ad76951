import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A record, in the run's work folder, of every process group the test API
 * started, so the executor can end what a test run left behind when Jest
 * itself was killed (a timeout) and no afterAll ran. A group is ended only if
 * its leader still runs the command recorded for it, so a reused pid is
 * never signalled.
 */
const DIR = 'started-processes';

function dirOf(workDir: string): string {
  return join(workDir, DIR);
}

/** Called right after a spawn; synchronous so the record exists before anything else can happen. */
export function recordStarted(workDir: string | undefined, pid: number | undefined, command: string): void {
  if (!workDir || pid === undefined) return;
  try {
    mkdirSync(dirOf(workDir), { recursive: true });
    writeFileSync(join(dirOf(workDir), String(pid)), command);
  } catch {
    // The record is a safety net; a process without one is still stopped by the test's afterAll.
  }
}

export function forgetStarted(workDir: string | undefined, pid: number | undefined): void {
  if (!workDir || pid === undefined) return;
  rmSync(join(dirOf(workDir), String(pid)), { force: true });
}

function stillOurs(pid: number, command: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === command;
  } catch {
    return false;
  }
}

/** SIGKILLs every recorded group whose leader still runs its recorded command; returns how many. */
export function killLeftovers(workDir: string): number {
  let killed = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dirOf(workDir));
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const command = readFileSync(join(dirOf(workDir), name), 'utf8');
    if (stillOurs(pid, command)) {
      try {
        process.kill(-pid, 'SIGKILL');
        killed += 1;
      } catch {
        // gone meanwhile
      }
    }
  }
  return killed;
}
