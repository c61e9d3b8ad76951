import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Folder that receives one log file per command. */
  logDir: string;
  /** A failing exit is the expected outcome (the test checks the output). */
  allowFailure?: boolean;
}

export interface RunResult {
  status: number | null;
  /** stdout and stderr, in that order. */
  output: string;
}

let counter = 0;

/** The last lines of a long output, for error messages. */
function tail(text: string, lines = 80): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Runs a command to its end or its timeout, keeping its output in a log file
 * and in the result. A non-zero exit or a timeout throws with the command and
 * the end of its output, unless allowFailure.
 */
export function run(command: string, args: readonly string[], options: RunOptions): RunResult {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  // Colours would split the words a test looks for.
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
  mkdirSync(options.logDir, { recursive: true });
  const name = `${String(++counter).padStart(2, '0')}-${[command, ...args].join(' ').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}.log`;
  appendFileSync(join(options.logDir, name), `$ ${command} ${args.join(' ')}\n# cwd ${options.cwd}\n${output}\n# exit ${result.status} in ${Date.now() - started} ms\n`);
  const timedOut = result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  if (timedOut) {
    throw new Error(`Timed out after ${Math.round(options.timeoutMs / 1000)} s: ${command} ${args.join(' ')}\n${tail(output)}`);
  }
  if (result.error) throw result.error;
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`Exit ${result.status}: ${command} ${args.join(' ')} (in ${options.cwd})\n${tail(output)}`);
  }
  return { status: result.status, output };
}

/**
 * The environment for commands in the test workspace: this process's, less
 * what npm and Nx set for the run that started the test (npm_config_* would
 * redirect npm; NX_* would point Nx at this repository), plus `extra`.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NX_)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}
