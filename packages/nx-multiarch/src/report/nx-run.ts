import { readFile } from 'node:fs/promises';
import { MultiarchError } from '../errors';
import type { NxRunFile, NxRunTaskEntry, RunRecord, TaskRun } from './types';

/**
 * Reads Nx's record of a run. Nx 24 keeps the last run of each cache folder in
 * `<cacheDirectory>/run.json` (per task: start, end, cache status, exit code),
 * so the report needs no timing of its own from the executors.
 */
export async function readRunFile(path: string): Promise<RunRecord> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MultiarchError(
      code === 'ENOENT' ? `No Nx run record at ${path}.` : `The Nx run record ${path} is not valid JSON.`,
      'run an Nx command first (nx run-many -t manifest-push …), or pass --run <cacheDirectory>/run.json of the run to report on.',
    );
  }
  if (!isRunFile(parsed)) {
    throw new MultiarchError(`${path} is not an Nx run record (expected "run" and "tasks").`, 'pass the run.json from an Nx cache folder.');
  }
  return toRunRecord(parsed);
}

function isRunFile(value: unknown): value is NxRunFile {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as { run?: unknown; tasks?: unknown };
  return typeof record.run === 'object' && record.run !== null && Array.isArray(record.tasks);
}

/** `--arch=arm` or `--arch arm` on the command line, when it names one arch. */
export function archOfCommand(command: string): string | undefined {
  const match = /--arch(?:=|\s+)([A-Za-z0-9_/]+)(?=\s|$)/.exec(command);
  return match ? match[1] : undefined;
}

/** `docker-arch-build--arm64` → kind docker-arch-build, arch arm64. */
export function splitTarget(target: string): { kind: string; arch?: string } {
  const at = target.lastIndexOf('--');
  if (at > 0) return { kind: target.slice(0, at), arch: target.slice(at + 2) };
  return { kind: target };
}

const PER_ARCH_KINDS = new Set(['go-cross', 'cargo-cross', 'docker-arch-build', 'arch-integration']);

export function toRunRecord(file: NxRunFile): RunRecord {
  const start = Date.parse(file.run.startTime);
  const commandArch = archOfCommand(file.run.command);
  const tasks = file.tasks.map((entry: NxRunTaskEntry): TaskRun => {
    const { kind, arch } = splitTarget(entry.target);
    const taskStart = Date.parse(entry.startTime);
    return {
      project: entry.projectName,
      kind,
      // A plain per-arch target takes its arch from the command's --arch (forwarded to every task).
      arch: arch ?? (PER_ARCH_KINDS.has(kind) ? commandArch : undefined),
      cacheStatus: entry.cacheStatus,
      exitCode: entry.status,
      startMs: Math.max(0, taskStart - start),
      durationMs: Math.max(0, Date.parse(entry.endTime) - taskStart),
    };
  });
  return { command: file.run.command, startTime: file.run.startTime, durationMs: Math.max(0, Date.parse(file.run.endTime) - start), tasks };
}
