import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { manifestPushBatch } from '../../src/executors/manifest-push/executor';
import type { ManifestPushOptions } from '../../src/publish/options';
import { readJsonFile } from '../../src/outputs/json-file';
import { pushRecordPath, type PushRecord } from '../../src/outputs/push-record';
import { RegistryClient } from '../../src/registry/client';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';

/**
 * manifest-push's batch implementation (`nx run-many -t manifest-push
 * --batch`): several projects pushed by one call, each task with its own
 * result, output and push record; a project that cannot be pushed fails its
 * task only.
 */
const ARCHES = ['amd64', 'arm64'] as const;
let registry: RegistryServer;
let workspace: string;

beforeAll(async () => {
  registry = await startRegistry();
  workspace = await mkdtemp(join(tmpdir(), 'nxm-push-batch-'));
  for (const project of ['api', 'worker']) {
    await mkdir(join(workspace, 'packages', project), { recursive: true });
    await writeTestImages(workspace, project, ARCHES, { seed: project });
  }
  // 'nothing' has no images: its task must fail, alone.
  await mkdir(join(workspace, 'packages', 'nothing'), { recursive: true });
});
afterAll(async () => {
  await registry?.stop();
  await rm(workspace, { recursive: true, force: true });
});

function batchOf(projects: string[]): { taskGraph: TaskGraph; context: ExecutorContext } {
  const tasks = Object.fromEntries(projects.map((p) => [`${p}:manifest-push`, { id: `${p}:manifest-push`, target: { project: p, target: 'manifest-push' }, overrides: {}, outputs: [] }]));
  const taskGraph = { roots: Object.keys(tasks), tasks, dependencies: Object.fromEntries(Object.keys(tasks).map((id) => [id, []])) } as unknown as TaskGraph;
  const context = {
    root: workspace,
    cwd: workspace,
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: Object.fromEntries(projects.map((p) => [p, { root: `packages/${p}` }])) },
    nxJsonConfiguration: {},
  } as unknown as ExecutorContext;
  return { taskGraph, context };
}

/** Runs a batch as Nx does: takes each task's result as the batch yields it. */
async function pushBatch(projects: string[], inputs: Record<string, ManifestPushOptions>): Promise<Record<string, { success: boolean; terminalOutput: string }>> {
  const { taskGraph, context } = batchOf(projects);
  const results: Record<string, { success: boolean; terminalOutput: string }> = {};
  for await (const { task, result } of manifestPushBatch(taskGraph, inputs, {}, context)) results[task] = result;
  return results;
}

test('one call pushes every project; each task has its own result and record, a failing one fails alone', async () => {
  const projects = ['api', 'nothing', 'worker'];
  const inputs: Record<string, ManifestPushOptions> = Object.fromEntries(projects.map((p) => [`${p}:manifest-push`, { registry: registry.host, tags: 'v1', arches: [...ARCHES] }]));
  const results = await pushBatch(projects, inputs);

  expect(Object.keys(results).sort()).toEqual(projects.map((p) => `${p}:manifest-push`));
  expect(results['api:manifest-push'].success).toBe(true);
  expect(results['worker:manifest-push'].success).toBe(true);
  expect(results['api:manifest-push'].terminalOutput).toMatch(/Pushed 127\.0\.0\.1:\d+\/api@sha256:[0-9a-f]{64} as v1/);
  expect(results['worker:manifest-push'].terminalOutput).not.toMatch(/\/api@/);
  expect(results['nothing:manifest-push'].success).toBe(false);
  expect(results['nothing:manifest-push'].terminalOutput).toMatch(/dist\/images\/nothing/);

  const reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
  try {
    for (const project of ['api', 'worker']) {
      const record = await readJsonFile<PushRecord>(pushRecordPath(workspace, project));
      expect(record).toMatchObject({ project, tags: ['v1'], arches: [...ARCHES] });
      expect((await reader.getManifest(project, 'v1')).digest).toBe(record?.indexDigest);
    }
  } finally {
    reader.close();
  }

  // The same batch again: every push is a one-request re-push.
  const again = await pushBatch(projects, inputs);
  expect(again['api:manifest-push'].success).toBe(true);
  expect((await readJsonFile<PushRecord>(pushRecordPath(workspace, 'api')))?.requests).toBe(1);
});
