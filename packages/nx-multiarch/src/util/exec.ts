import { spawn } from 'node:child_process';
import { MultiarchError } from '../errors';

/**
 * A small wrapper over child_process.spawn. Written here rather than taken
 * from execa: execa 9 is ESM-only and Jest's CommonJS runtime on Node 20 will
 * not load it, and all the plugin needs is spawn, capture and a clear error.
 */
export interface RunOptions {
  cwd?: string;
  /** Full environment of the child; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin. */
  input?: string | Buffer;
  /** Stream the child's output to this process's stdout/stderr as well. */
  echo?: boolean;
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and resolves with its output, whatever its exit code. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // No input: give the child no stdin pipe at all, so nothing is written to a child that already exited.
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err.push(chunk);
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new MultiarchError(`Command not found: ${command}.`, `Install it or put it on PATH.`));
      } else {
        reject(error);
      }
    });
    child.on('close', (code, signal) => {
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (child.stdin) {
      // A child may exit before reading its input; EPIPE then is not our failure, its exit code says what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** Runs a command and throws a MultiarchError with its stderr when it fails. */
export async function runChecked(
  command: string,
  args: readonly string[],
  options: RunOptions & { what?: string; hint?: string } = {},
): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.exitCode !== 0) {
    const what = options.what ?? `${command} ${args.join(' ')}`;
    const tail = result.stderr.trim().split('\n').slice(-20).join('\n');
    throw new MultiarchError(`${what} failed with exit code ${result.exitCode}${tail ? `:\n${tail}` : '.'}`, options.hint);
  }
  return result;
}

/** Finds a program on PATH (of the given env), or undefined. */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { existsSync, statSync } = require('node:fs') as typeof import('node:fs');
  const { delimiter, join, isAbsolute } = require('node:path') as typeof import('node:path');
  if (isAbsolute(program)) return existsSync(program) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
