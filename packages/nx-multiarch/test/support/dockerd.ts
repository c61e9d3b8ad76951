import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec';

/**
 * A docker daemon for tests: the one DOCKER_HOST names (CI starts it once with
 * `bash tools/services.sh start dockerd`), else a private dockerd started here
 * and stopped by its pid in afterAll, so the tests also pass on their own.
 *
 * The private daemon follows what works on Debian 12 without a system
 * service: root, vfs storage, no iptables and no bridge (containers run with
 * --network host or none), its own data root, exec root, pid file and unix
 * socket in a short temporary folder (socket paths must stay under ~100 bytes).
 */
export interface TestDockerDaemon {
  /** `unix:///…/sock` or whatever DOCKER_HOST said. */
  host: string;
  /** process.env with DOCKER_HOST set to this daemon. */
  env: NodeJS.ProcessEnv;
  /** True when this helper started the daemon (and stop() ends it). */
  owned: boolean;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(env: NodeJS.ProcessEnv): Promise<boolean> {
  const result = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 10_000 });
  return result.exitCode === 0 && result.stdout.trim() !== '';
}

/**
 * dockerd leaves its default network namespace bind-mounted under the exec
 * root after it exits; unmount what is left (deepest first) so the folder
 * can be removed.
 */
async function unmountUnder(dir: string): Promise<void> {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mountPoints) await run('umount', [point]);
}

export async function startTestDockerd(): Promise<TestDockerDaemon> {
  const given = process.env.DOCKER_HOST;
  if (given) {
    return { host: given, env: { ...process.env }, owned: false, stop: async () => undefined };
  }
  if (process.getuid?.() !== 0) {
    throw new Error('The docker engine tests need a docker daemon: set DOCKER_HOST (bash tools/services.sh start dockerd), or run them as root so they can start a private dockerd.');
  }
  const dir = await mkdtemp(join(process.env.TMPDIR || tmpdir(), 'dkd.'));
  const socket = join(dir, 'sock');
  const host = `unix://${socket}`;
  const logPath = join(dir, 'dockerd.log');
  const log = openSync(logPath, 'a');
  const child = spawn(
    'dockerd',
    [
      '--storage-driver',
      'vfs',
      '--iptables=false',
      '--bridge=none',
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '-H',
      host,
    ],
    { stdio: ['ignore', log, log], detached: false },
  );
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('dockerd did not start (is docker.io installed?)');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host };

  const stop = async (): Promise<void> => {
    if (isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (isAlive(pid) && Date.now() < deadline) await sleep(200);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(env))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(`private dockerd did not answer on ${host} within ${READY_TIMEOUT_MS / 1000}s:\n${tail}`);
    }
    await sleep(250);
  }
  return { host, env, owned: true, stop };
}
