import type { ExecutorContext } from '@nx/devkit';

/** The parts of an Nx ExecutorContext the plugin's executors read, for calling them directly. */
export function fakeExecutorContext(root: string, projectName: string, projectRoot: string, targetName: string): ExecutorContext {
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName,
    targetName,
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot, targets: {} } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}

/** Collects what console.log and console.error print while `body` runs. */
export async function captureOutput<T>(body: () => Promise<T>): Promise<{ result: T; output: string }> {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  try {
    const result = await body();
    return { result, output: lines.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
