import { createServer, type Server } from 'node:http';
import { MultiarchError } from '../errors';
import { spawnTracked, stopAllProcesses } from './child-process';
import { freePort } from './free-port';
import { waitForExit, waitForHttp, waitForPort } from './wait';

/** The waits against real host processes (sh), so their timing and failure paths are the real ones. */
function sh(script: string, diagnosis?: string) {
  return spawnTracked({
    command: '/bin/sh',
    args: ['-c', script],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    host: '127.0.0.1',
    description: 'sh test process',
    stopSignal: 'SIGTERM',
    diagnosis,
  });
}

afterEach(() => stopAllProcesses());

describe('readiness waits', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    let calls = 0;
    server = createServer((req, res) => {
      calls += 1;
      res.statusCode = req.url === '/ready' && calls > 2 ? 200 : 503;
      res.end(req.url === '/ready' ? 'ready\n' : 'no\n');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('waits for an open port and for HTTP 200, retrying other answers', async () => {
    const proc = sh('sleep 30');
    await waitForPort(proc, port);
    const answer = await waitForHttp(proc, `http://127.0.0.1:${port}/ready`);
    expect(answer).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('fails at once, with the exit code, output and diagnosis, when the process exits first', async () => {
    const proc = sh('echo "bad config" >&2; exit 3', 'The binary is for another arch.');
    const closed = await freePort();
    const started = Date.now();
    const error = await waitForPort(proc, closed, { timeoutMs: 20_000 }).then(
      () => undefined,
      (e: unknown) => e as MultiarchError,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(MultiarchError);
    expect(error?.message).toBe(`sh test process exited with code 3 before port 127.0.0.1:${closed} was open.\nstderr:\nbad config\ndiagnosis: The binary is for another arch.`);
    expect(error?.hint).toBe('The binary is for another arch.');
  });

  it('is bounded when the process runs but never gets ready', async () => {
    const proc = sh('echo waiting >&2; sleep 30');
    const started = Date.now();
    await expect(waitForHttp(proc, `http://127.0.0.1:${port}/never`, { timeoutMs: 1_000 })).rejects.toThrow(/is still running but GET .* answered 200 did not happen within 1000 ms \(last attempt: status 503\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('bounds waitForExit and stops the process it gave up on', async () => {
    const proc = sh('sleep 30');
    await expect(waitForExit(proc, { timeoutMs: 500 })).rejects.toThrow('sh test process did not exit within 500 ms; it was stopped.');
    expect(proc.hasExited()).toBe(true);
  });
});

describe('stop', () => {
  it('ends the whole process group, and SIGKILLs a process that ignores the stop signal', async () => {
    const proc = sh('trap "" TERM; sleep 30 & wait');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const status = await proc.stop(500);
    expect(status.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
