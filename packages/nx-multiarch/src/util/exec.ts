import { statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { execa as Execa } from 'execa';
import { MultiarchError } from '../errors';

/**
 * The plugin's one way to run a command to completion, over execa: execa
 * spawns, captures, feeds stdin, enforces the timeout (SIGTERM, then SIGKILL
 * if the child ignores it), cancels on an AbortSignal, kills children left
 * running when this process exits, and words the failure. This layer keeps
 * the small API callers use and turns a failure into a MultiarchError.
 * (Long-lived processes with their own stop logic live in integration/child-process.ts.)
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
  /** Cancel: kill the child when this signal aborts. */
  signal?: AbortSignal;
}

export interface RunResult {
  /** The exit code; 128 + n style codes are not guessed: a child ended by a signal (or timeout) reports 128. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Why the command failed, in execa's words without the command line ("failed with exit code 2", "timed out after 5000 milliseconds"). */
  failure?: string;
}

/** execa's short message without the command line it ends with (arguments may carry what logs must not). */
function reasonOf(shortMessage: string, command: string, escapedCommand: string): string {
  let reason = shortMessage.split('\n')[0];
  for (const suffix of [`: ${escapedCommand}`, `: ${command}`]) {
    if (reason.endsWith(suffix)) reason = reason.slice(0, -suffix.length);
  }
  return reason.replace(/^Command /, '');
}

/**
 * execa, loaded on the first command: it is an ES module tree that takes tens of ms to load,
 * which every task process paid at start, also those that run no command (a push).
 */
let loadedExeca: typeof Execa | undefined;
async function execaFunction(): Promise<typeof Execa> {
  loadedExeca ??= (await import('execa')).execa;
  return loadedExeca;
}

/** Runs a command and resolves with its output, whatever its exit code. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const output = options.echo ? (['pipe', 'inherit'] as const) : ('pipe' as const);
  const execa = await execaFunction();
  const result = await execa(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    // The env given is the child's whole environment, as with spawn.
    extendEnv: false,
    // No input: give the child no stdin at all (a child that waits for input must not hang).
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stdout: output,
    stderr: output,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    reject: false,
    stripFinalNewline: false,
  });
  if (result.failed && result.exitCode === undefined && !result.isTerminated && !result.timedOut && !result.isCanceled) {
    // The command never ran.
    if (result.code === 'ENOENT') throw new MultiarchError(`Command not found: ${command}.`, 'Install it or put it on PATH.');
    throw new MultiarchError(`Could not start ${command}: ${reasonOf(result.shortMessage ?? result.message ?? 'failed', result.command, result.escapedCommand)}`);
  }
  return {
    exitCode: result.exitCode ?? (result.failed ? 128 : 0),
    stdout: result.stdout,
    stderr: result.stderr,
    ...(result.failed ? { failure: reasonOf(result.shortMessage ?? result.message ?? 'failed', result.command, result.escapedCommand) } : {}),
  };
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
    const reason = result.failure ?? `failed with exit code ${result.exitCode}`;
    throw new MultiarchError(`${what} ${reason}${tail ? `:\n${tail}` : '.'}`, options.hint);
  }
  return result;
}

/** Finds a program on PATH (of the given env), or undefined. */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isAbsolute(program)) return isFile(program) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
