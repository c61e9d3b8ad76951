import { request } from 'node:http';
import { connect } from 'node:net';
import { MultiarchError } from '../errors';
import type { ExitStatus, RunningProcess } from './types';

/**
 * Bounded readiness checks that also watch the process: a process that dies
 * before it is ready fails the wait at once with its exit status and output
 * (an image of the wrong arch fails in milliseconds rather than timing out).
 */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const ATTEMPT_TIMEOUT_MS = 2_000;

export interface WaitOptions {
  timeoutMs?: number;
}

export interface HttpWaitOptions extends WaitOptions {
  /** Status that means ready; default 200. */
  status?: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

/** The message for a process that ended before it was ready: exit status, its stderr and stdout tails, and any diagnosis. */
export function exitedEarlyError(proc: RunningProcess & { diagnosis?: string }, status: ExitStatus, waitingFor: string): MultiarchError {
  const stderr = tail(proc.stderr());
  const stdout = tail(proc.stdout());
  const parts = [`${proc.description} ${describeExit(status)} before ${waitingFor}.`];
  if (stderr) parts.push(`stderr:\n${stderr}`);
  if (stdout) parts.push(`stdout:\n${stdout}`);
  // Jest prints only the message, so what is known to be wrong goes into it as well as into the hint.
  if (proc.diagnosis) parts.push(`diagnosis: ${proc.diagnosis}`);
  return new MultiarchError(parts.join('\n'), proc.diagnosis ?? 'Read the process output above; run the image by hand to reproduce.');
}

function timedOutError(proc: RunningProcess, waitingFor: string, timeoutMs: number, last: string): MultiarchError {
  const stderr = tail(proc.stderr(), 15);
  return new MultiarchError(
    `${proc.description} is still running but ${waitingFor} did not happen within ${timeoutMs} ms (last attempt: ${last}).${stderr ? `\nstderr:\n${stderr}` : ''}`,
    'Check the address and port the test gave the process; raise timeoutMs if emulation is slow on this machine.',
  );
}

function tryConnect(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('connect timed out');
    }, ATTEMPT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/** One HTTP GET, bounded; resolves with the answer or rejects with the transport error. */
export function httpGet(url: string, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // No keep-alive agent: a pooled socket left open would keep Jest from exiting.
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Repeats `attempt` until it returns undefined (ready), the process exits,
 * or the time is up. `attempt` returns a short reason while not ready.
 */
async function pollUntilReady(proc: RunningProcess & { diagnosis?: string }, waitingFor: string, timeoutMs: number, attempt: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'none';
  let exitStatus: ExitStatus | undefined;
  void proc.exited.then((status) => (exitStatus = status));
  for (;;) {
    if (exitStatus) throw exitedEarlyError(proc, exitStatus, waitingFor);
    const reason = await attempt();
    if (reason === undefined) return;
    last = reason;
    // Give a just-exited process's close event a moment to land, so the error names the exit rather than a timeout.
    if (Date.now() >= deadline) {
      await Promise.race([proc.exited, sleep(POLL_INTERVAL_MS)]);
      if (exitStatus) throw exitedEarlyError(proc, exitStatus, waitingFor);
      throw timedOutError(proc, waitingFor, timeoutMs, last);
    }
    await Promise.race([proc.exited, sleep(POLL_INTERVAL_MS)]);
  }
}

export async function waitForPort(proc: RunningProcess, port: number, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  await pollUntilReady(proc, `port ${proc.host}:${port} was open`, timeoutMs, () => tryConnect(proc.host, port));
}

export async function waitForHttp(proc: RunningProcess, url: string, options: HttpWaitOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const want = options.status ?? 200;
  let answer: HttpAnswer | undefined;
  await pollUntilReady(proc, `GET ${url} answered ${want}`, timeoutMs, async () => {
    try {
      answer = await httpGet(url);
      return answer.status === want ? undefined : `status ${answer.status}`;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
  });
  return answer as HttpAnswer;
}

/** Waits for the process to end by itself, bounded; stops it and fails when it does not. */
export async function waitForExit(proc: RunningProcess, options: WaitOptions = {}): Promise<ExitStatus> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await proc.stop();
    throw new MultiarchError(`${proc.description} did not exit within ${timeoutMs} ms; it was stopped.`, 'The command may be waiting for input or a peer; check its arguments.');
  }
  return outcome;
}
