import type { PushRecord } from '../outputs/push-record';

/**
 * The documents the build report reads and the model it renders. Every input
 * is a file a build already leaves behind: the image summaries under
 * dist/images and the push records under dist/push (both typed in
 * outputs/), the JUnit files under dist/test-results, and Nx's own record of
 * a run (`<cacheDirectory>/run.json`).
 */

/** Nx 24's `run.json`: the last run of a cache folder, one entry per task. */
export interface NxRunFile {
  run: { command: string; startTime: string; endTime: string; inner?: boolean };
  tasks: NxRunTaskEntry[];
}

export interface NxRunTaskEntry {
  taskId: string;
  target: string;
  projectName: string;
  hash: string;
  startTime: string;
  endTime: string;
  params: string;
  /** `local-cache-hit`, `local-cache-kept-existing`, `remote-cache-hit`, `cache-miss`. */
  cacheStatus: string;
  /** Exit code of the task (0 = success). */
  status: number;
}

/** One task of one run, with its arch resolved. */
export interface TaskRun {
  project: string;
  /** Target without the per-arch suffix: `docker-arch-build`, `go-cross`, … */
  kind: string;
  /** Undefined for targets that are not per arch (manifest-push). */
  arch?: string;
  cacheStatus: string;
  exitCode: number;
  /** Milliseconds from the run's start. */
  startMs: number;
  durationMs: number;
}

export interface RunRecord {
  command: string;
  startTime: string;
  durationMs: number;
  tasks: TaskRun[];
}

/** One cell of the project x arch matrix. */
export interface MatrixCell {
  project: string;
  arch: string;
  platform: string;
  engine: string;
  manifestDigest: string;
  size: number;
  layers: number;
  /** Wall time of the image task in the newest run that had it. */
  buildMs?: number;
  /** Cache status of that task; undefined when no run record names it. */
  cacheStatus?: string;
}

/** Totals of one dist/test-results/<project>/<arch>/junit.xml. */
export interface IntegrationResult {
  project: string;
  arch: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  seconds: number;
}

export interface BuildReport {
  /** Arch columns, in the platform table's order. */
  arches: string[];
  /** Row names: projects with at least one image. */
  projects: string[];
  cells: MatrixCell[];
  pushes: PushRecord[];
  integration: IntegrationResult[];
  runs: RunRecord[];
}
