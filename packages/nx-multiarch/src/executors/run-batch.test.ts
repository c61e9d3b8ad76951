import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { MultiarchError } from '../errors';
import { runBatch, type BatchTask, type BatchTaskResult } from './run-batch';

/** A batch of tasks `<project>:build`, with `deps` between them as Nx's task graph gives them. */
function batchOf(workspace: string, projects: string[], deps: Record<string, string[]> = {}): { taskGraph: TaskGraph; context: ExecutorContext; inputs: Record<string, { delayMs: number }> } {
  const id = (p: string): string => `${p}:build`;
  const tasks = Object.fromEntries(projects.map((p) => [id(p), { id: id(p), target: { project: p, target: 'build' }, overrides: {}, outputs: [] }]));
  // A dependency on a task outside the batch (completed before Nx formed it) must not hold a task back.
  const dependencies = Object.fromEntries(projects.map((p) => [id(p), [...(deps[p] ?? []).map((d) => ({ id: id(d) })), { id: `${p}:compile` }]]));
  const taskGraph = { roots: [], tasks, dependencies } as unknown as TaskGraph;
  const context = {
    root: workspace,
    cwd: workspace,
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: Object.fromEntries(projects.filter((p) => p !== 'ghost').map((p) => [p, { root: `packages/${p}` }])) },
    nxJsonConfiguration: {},
  } as unknown as ExecutorContext;
  return { taskGraph, context, inputs: Object.fromEntries(projects.map((p) => [id(p), { delayMs: 0 }])) };
}

let workspace: string;
beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'nxm-run-batch-'));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

test('each result is yielded when its task finishes, not when the batch does', async () => {
  const { taskGraph, context, inputs } = batchOf(workspace, ['slow', 'fast']);
  let releaseSlow!: () => void;
  const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  const batch = runBatch(taskGraph, inputs, context, 2, async (task) => {
    task.log(`building ${task.project.name} in ${task.project.root}`);
    if (task.project.name === 'slow') await slowGate;
  });
  const first = await batch.next();
  // 'slow' is still running: Nx can print 'fast' now.
  expect(first.value).toMatchObject({ task: 'fast:build', result: { success: true, terminalOutput: 'building fast in packages/fast\n' } });
  releaseSlow();
  const second = await batch.next();
  expect(second.value).toMatchObject({ task: 'slow:build', result: { success: true } });
  expect((await batch.next()).done).toBe(true);
});

test('no more tasks run at once than the concurrency', async () => {
  const projects = ['a', 'b', 'c', 'd', 'e'];
  const { taskGraph, context, inputs } = batchOf(workspace, projects);
  let running = 0;
  let most = 0;
  const results: BatchTaskResult[] = [];
  for await (const r of runBatch(taskGraph, inputs, context, 2, async () => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running--;
  })) results.push(r);
  expect(most).toBe(2);
  expect(results.map((r) => r.task).sort()).toEqual(projects.map((p) => `${p}:build`));
  expect(results.every((r) => r.result.success)).toBe(true);
});

test('a task runs after the tasks of the batch it depends on; a failure skips its dependents only', async () => {
  // app depends on lib; tool depends on broken; other stands alone.
  const { taskGraph, context, inputs } = batchOf(workspace, ['app', 'lib', 'tool', 'broken', 'other'], { app: ['lib'], tool: ['broken'] });
  const started: string[] = [];
  const finished: string[] = [];
  const results: Record<string, BatchTaskResult['result']> = {};
  const run = async (task: BatchTask<{ delayMs: number }>): Promise<void> => {
    started.push(task.project.name);
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (task.project.name === 'broken') throw new MultiarchError('broken has no Dockerfile.', 'Add packages/broken/Dockerfile.');
    finished.push(task.project.name);
  };
  for await (const { task, result } of runBatch(taskGraph, inputs, context, 3, run)) results[task] = result;

  expect(started.indexOf('app')).toBeGreaterThan(finished.indexOf('lib'));
  expect(finished.indexOf('lib')).toBeGreaterThanOrEqual(0);
  expect(started).not.toContain('tool');
  expect(results['tool:build']).toMatchObject({ success: false, status: 'skipped' });
  expect(results['broken:build']).toMatchObject({ success: false, terminalOutput: 'broken has no Dockerfile.\n  hint: Add packages/broken/Dockerfile.\n' });
  expect(results['app:build'].success).toBe(true);
  expect(results['other:build'].success).toBe(true);
});

test('a task whose project is not in the workspace fails alone, with the fix', async () => {
  const { taskGraph, context, inputs } = batchOf(workspace, ['ghost', 'real']);
  const results: Record<string, BatchTaskResult['result']> = {};
  for await (const { task, result } of runBatch(taskGraph, inputs, context, 3, async () => undefined)) results[task] = result;
  expect(results['ghost:build']).toMatchObject({ success: false });
  expect(results['ghost:build'].terminalOutput).toMatch(/ghost:build has no project in the workspace[\s\S]*hint: Run it through Nx/);
  expect(results['real:build'].success).toBe(true);
});
