import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * tools/lib/test-summary.sh, the totals tools/test.sh ends with, over the
 * task outputs Nx keeps (terminalOutputs/<hash>) and the task list of the run
 * (run.json, with each task's cache status): every runner counted, go test's
 * leaf tests and skips with their reasons, replays apart, and the closing
 * line CI reads alone on the last line.
 */
const SCRIPT = resolve(__dirname, '..', '..', '..', '..', 'tools', 'lib', 'test-summary.sh');

const GO_VERBOSE = [
  '=== RUN   TestA',
  '--- PASS: TestA (0.00s)',
  '=== RUN   TestQemu',
  '=== RUN   TestQemu/arm64',
  '    main_test.go:213: qemu-aarch64-static not installed',
  '=== RUN   TestQemu/arm',
  '--- PASS: TestQemu (0.01s)',
  '    --- SKIP: TestQemu/arm64 (0.00s)',
  '    --- PASS: TestQemu/arm (0.00s)',
  '=== RUN   TestKernel',
  '    main_test.go:287: needs unshare',
  '--- SKIP: TestKernel (0.00s)',
  '=== RUN   TestBroken',
  '    main_test.go:12: got 1, want 2',
  '--- FAIL: TestBroken (0.00s)',
  'FAIL',
].join('\n');

interface Task {
  taskId: string;
  output: string;
  cacheStatus: string;
  status?: number;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxm-test-summary-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes an Nx cache folder holding these tasks as the last run, and runs the summary over it. */
async function summarize(tasks: Task[]): Promise<{ code: number; lines: string[] }> {
  const cache = join(dir, 'cache');
  await mkdir(join(cache, 'terminalOutputs'), { recursive: true });
  const since = Date.now() - 1000;
  const run = { run: { startTime: new Date().toISOString() }, tasks: tasks.map((t, i) => ({ taskId: t.taskId, hash: `h${i}`, cacheStatus: t.cacheStatus, status: t.status ?? 0 })) };
  await writeFile(join(cache, 'run.json'), JSON.stringify(run));
  for (const [i, t] of tasks.entries()) await writeFile(join(cache, 'terminalOutputs', `h${i}`), t.output);
  const streamLog = join(dir, 'stream.log');
  await writeFile(streamLog, '');
  return new Promise((done) => {
    execFile('bash', [SCRIPT, String(since), streamLog], { env: { ...process.env, NX_CACHE_DIRECTORY: cache } }, (error, stdout) => {
      done({ code: error ? Number(error.code) : 0, lines: stdout.trimEnd().split('\n') });
    });
  });
}

test('counts go test leaf tests and lists each skip with its reason', async () => {
  const { code, lines } = await summarize([{ taskId: 'linkerd2-proxy-init:test', output: GO_VERBOSE, cacheStatus: 'cache-miss', status: 1 }]);
  expect(code).toBe(0);
  // TestQemu has subtests: it is not counted on top of them. 5 leaves: A, arm, arm64 (skip), Kernel (skip), Broken (fail).
  expect(lines).toEqual([
    'tests: 5 ran (2 passed, 1 failed, 2 skipped); 0 replayed from the Nx cache (0 passed, 0 failed)',
    'go test skipped: linkerd2-proxy-init TestQemu/arm64: qemu-aarch64-static not installed',
    'go test skipped: linkerd2-proxy-init TestKernel: needs unshare',
    '2 passed, 1 failed, 2 skipped',
  ]);
});

test('counts tests Nx replayed from its cache apart from those that ran, and all of them in the closing line', async () => {
  const { lines } = await summarize([
    { taskId: 'nx-multiarch:test', output: 'Tests:       1 failed, 2 skipped, 11 passed, 14 total\n', cacheStatus: 'cache-miss' },
    { taskId: 'linkerd2-proxy:test', output: 'test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured\n', cacheStatus: 'local-cache-hit' },
    { taskId: 'e2e:e2e', output: '# pass 4\n# fail 0\n', cacheStatus: 'remote-cache-hit' },
    { taskId: 'linkerd2:test', output: '--- PASS: TestX (0.00s)\n', cacheStatus: 'local-cache-kept-existing' },
  ]);
  expect(lines[0]).toBe('tests: 14 ran (11 passed, 1 failed, 2 skipped); 9 replayed from the Nx cache (8 passed, 0 failed, 1 skipped)');
  expect(lines[lines.length - 1]).toBe('19 passed, 1 failed, 3 skipped');
});

test('the closing line has no skipped part when nothing was skipped', async () => {
  const { lines } = await summarize([{ taskId: 'x:test', output: 'Tests:       3 passed, 3 total\n', cacheStatus: 'cache-miss' }]);
  expect(lines[lines.length - 1]).toBe('3 passed, 0 failed');
});

test('negative control: go test output without -v has no per-test lines, so its tests cannot be counted', async () => {
  const { code, lines } = await summarize([{ taskId: 'linkerd2-proxy-init:test', output: 'ok  \texample.com/linkerd2-proxy-init\t88.5s\n', cacheStatus: 'cache-miss' }]);
  expect(code).toBe(1);
  expect(lines).toEqual(['']);
});
