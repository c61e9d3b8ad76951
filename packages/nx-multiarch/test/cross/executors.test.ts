import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import cargoCrossExecutor from '../../src/executors/cargo-cross/executor';
import goCrossExecutor from '../../src/executors/go-cross/executor';
import { outputDir } from '../../src/outputs/paths';
import { cleanUpTemp, FIXTURES, listDir, workspaceWith } from './helpers';

/**
 * The executors as Nx calls them: options and an ExecutorContext in,
 * `{ success }` out, and a failure printed as the problem and its fix.
 */
jest.setTimeout(600_000);
afterAll(cleanUpTemp);

function contextFor(root: string, project: string, projectRoot: string, targetName: string): ExecutorContext {
  const context: Partial<ExecutorContext> = {
    root,
    cwd: root,
    projectName: project,
    targetName,
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: { [project]: { root: projectRoot } } },
  };
  return context as ExecutorContext;
}

/** Captures what the executor prints, so the test reads what a user would read. */
function captureConsole(): { errors: string[]; restore: () => void } {
  const errors: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    errors.push(args.join(' '));
  });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return {
    errors,
    restore: () => [error, log, out, err].forEach((spy) => spy.mockRestore()),
  };
}

describe('cross executors', () => {
  it('go-cross succeeds and writes the binary for the task’s project and arch', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'go-hello'), 'go-hello');
    const captured = captureConsole();
    try {
      const result = await goCrossExecutor({ arch: 'aarch64' }, contextFor(root, 'go-hello', projectRoot, 'go-cross'));
      expect(result).toEqual({ success: true });
    } finally {
      captured.restore();
    }
    expect(listDir(outputDir(root, 'cross', 'go-hello', 'aarch64'))).toEqual(['go-hello']);
  });

  it('cargo-cross fails with the problem and the fix printed, and nothing in dist', async () => {
    const { root, projectRoot } = workspaceWith(join(FIXTURES, 'rust-hello'), 'rust-hello');
    const captured = captureConsole();
    let result;
    try {
      result = await cargoCrossExecutor({ arch: 'arm64,arm' }, contextFor(root, 'rust-hello', projectRoot, 'cargo-cross'));
    } finally {
      captured.restore();
    }
    expect(result).toEqual({ success: false });
    expect(captured.errors.join('\n')).toBe(
      'cargo-cross builds one arch per task, but --arch=arm64,arm names 2.\n' +
        '  hint: Run it once per arch (nx run-many -t cargo-cross --arch=arm64), or use the per-arch targets cargo-cross--<arch>.',
    );
    expect(listDir(join(root, 'dist'))).toEqual([]);
  });

  it('refuses to run outside a project', async () => {
    const captured = captureConsole();
    let result;
    try {
      const context = { root: '/nonexistent', cwd: '/', isVerbose: false, projectsConfigurations: { version: 2, projects: {} } };
      result = await goCrossExecutor({ arch: 'amd64' }, context as unknown as ExecutorContext);
    } finally {
      captured.restore();
    }
    expect(result).toEqual({ success: false });
    expect(captured.errors[0]).toContain('must run as a target of a project');
  });
});
