import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesResult, ProjectConfiguration } from '@nx/devkit';

/**
 * A temporary workspace for createNodes tests: files written into it, and
 * createNodesV2 loaded afresh with its memo in the workspace's own data
 * folder (Nx reads that folder's location once, when it loads).
 */
export interface NodesTestWorkspace {
  root: string;
  write(files: Record<string, string>): void;
  /** createNodesV2 over these files: workspace root → the project it infers there. */
  projects(files: string[], options?: Record<string, unknown>): Promise<Record<string, Omit<ProjectConfiguration, 'root'>>>;
  remove(): void;
}

/**
 * One folder per test file holds its workspaces. Nx's native workspace
 * context outlives a test's module registry and creates the first
 * workspace's data folder again while later tests run, so removing each
 * workspace is not enough: this folder goes once the file's tests are done
 * (the hook is registered when a test file imports this module).
 */
let parent: string | undefined;
afterAll(() => {
  if (parent) rmSync(parent, { recursive: true, force: true });
  parent = undefined;
});

export function nodesTestWorkspace(prefix: string): NodesTestWorkspace {
  parent ??= mkdtempSync(join(tmpdir(), prefix));
  const root = mkdtempSync(join(parent, 'ws-'));
  process.env.NX_WORKSPACE_DATA_DIRECTORY = join(root, '.nx-data');
  let createNodesV2: typeof import('../../src/graph/create-nodes').createNodesV2 | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    createNodesV2 = (require('../../src/graph/create-nodes') as typeof import('../../src/graph/create-nodes')).createNodesV2;
  });
  return {
    root,
    write(files) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
    },
    async projects(files, options = {}) {
      const results = await (createNodesV2 as NonNullable<typeof createNodesV2>)[1](files, options, { workspaceRoot: root, nxJsonConfiguration: {} });
      const projects: Record<string, Omit<ProjectConfiguration, 'root'>> = {};
      for (const [, result] of results as Array<readonly [string, CreateNodesResult]>) Object.assign(projects, result.projects ?? {});
      return projects;
    },
    remove() {
      delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
