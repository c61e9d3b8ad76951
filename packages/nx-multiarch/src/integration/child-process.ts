import { spawn, type ChildProcess } from 'node:child_process';
import { ENV } from './env';
import { forgetStarted, recordStarted } from './pid-registry';
import type { ExitStatus, RunningProcess } from './types';

/**
 * A started process with bounded logs, an exit promise that never rejects,
 * and a stop that cannot hang: the stop signal to its process group, then
 * SIGKILL after a grace period. Every live process is tracked so a test run
 * that forgets to stop one (or is interrupted) still ends them.
 */
const LOG_LIMIT = 1024 * 1024;
export const DEFAULT_STOP_GRACE_MS = 5000;

class BoundedLog {
  private chunks: Buffer[] = [];
  private size = 0;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > LOG_LIMIT && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const live = new Set<ChildRunningProcess>();

export interface SpawnRequest {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  argv0?: string;
  host: string;
  description: string;
  stopSignal: NodeJS.Signals;
  /** Replaces signalling the process group (e.g. `docker stop` for a container). */
  stopHook?: (graceMs: number) => Promise<void>;
  /** What is known to be wrong before the start (for example an ELF of another arch); added to failure messages. */
  diagnosis?: string;
}

export class ChildRunningProcess implements RunningProcess {
  readonly exited: Promise<ExitStatus>;
  readonly host: string;
  readonly description: string;
  readonly diagnosis?: string;
  private readonly out = new BoundedLog();
  private readonly err = new BoundedLog();
  private status?: ExitStatus;
  private stopping?: Promise<ExitStatus>;

  constructor(
    private readonly child: ChildProcess,
    private readonly request: SpawnRequest,
  ) {
    this.host = request.host;
    this.description = request.description;
    this.diagnosis = request.diagnosis;
    child.stdout?.on('data', (chunk: Buffer) => this.out.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.err.append(chunk));
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        this.err.append(Buffer.from(`${error.message}\n`));
        this.finish({ code: 127, signal: null }, resolve);
      });
      child.on('close', (code, signal) => this.finish({ code, signal }, resolve));
    });
    live.add(this);
  }

  private finish(status: ExitStatus, resolve: (status: ExitStatus) => void): void {
    if (!this.status) this.status = status;
    live.delete(this);
    resolve(this.status);
  }

  stdout(): string {
    return this.out.text();
  }

  stderr(): string {
    return this.err.text();
  }

  hasExited(): boolean {
    return this.status !== undefined;
  }

  exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Signals the whole process group (the child leads its own group), so children of the image's process go too. */
  signal(signal: NodeJS.Signals): void {
    if (this.status || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<ExitStatus> {
    if (this.status) return Promise.resolve(this.status);
    if (!this.stopping) {
      this.stopping = (async () => {
        const killer = setTimeout(() => this.signal('SIGKILL'), graceMs + 1000);
        try {
          if (this.request.stopHook) await this.request.stopHook(graceMs).catch(() => this.signal('SIGKILL'));
          else this.signal(this.request.stopSignal);
          return await this.exited;
        } finally {
          clearTimeout(killer);
        }
      })();
    }
    return this.stopping;
  }
}

/** Starts a process in its own process group with piped output. */
export function spawnTracked(request: SpawnRequest): ChildRunningProcess {
  const child = spawn(request.command, request.args, {
    cwd: request.cwd,
    env: request.env,
    argv0: request.argv0,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Under the executor, a record lets it end this group even if Jest is killed before afterAll runs.
  const workDir = process.env[ENV.workDir];
  recordStarted(workDir, child.pid, request.argv0 ?? request.command);
  const proc = new ChildRunningProcess(child, request);
  void proc.exited.then(() => forgetStarted(workDir, child.pid));
  return proc;
}

/** Stops every process still running (tests that forgot, or an interrupted run). */
export async function stopAllProcesses(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(graceMs)));
}

/** Synchronous last resort on exit: SIGKILL every group still alive. */
export function killAllProcessesNow(): void {
  for (const p of live) p.signal('SIGKILL');
}

let hooksInstalled = false;

/** On exit or an interrupt, no emulated process may outlive the test run. */
export function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllProcessesNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllProcessesNow();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}
