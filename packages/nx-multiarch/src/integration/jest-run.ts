import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MultiarchError } from '../errors';
import type { JestAggregatedResult } from './jest-results';

/**
 * Runs a project's arch tests with the workspace's own Jest, with a config
 * made here: only the given files, TypeScript through ts-jest in
 * transpile-only mode (the tests live in Go and Rust projects with no
 * tsconfig of their own), `nx-multiarch/integration` mapped to this plugin's
 * test API, and a setup file that stops every started process after each file.
 */
export const API_MODULE = 'nx-multiarch/integration';

export interface JestRunRequest {
  workspaceRoot: string;
  projectRoot: string;
  testFiles: string[];
  /** Folders Jest crawls (the patterns' fixed prefixes). */
  roots: string[];
  testMatch: string[];
  env: Record<string, string>;
  testTimeoutMs: number;
  maxWorkers: number;
  /** Bound of the whole Jest run; its process group is killed after it. */
  timeoutMs: number;
  /** Where Jest's JSON results go. */
  resultsFile: string;
}

export interface JestRunOutcome {
  exitCode: number;
  timedOut: boolean;
  results?: JestAggregatedResult;
  stderrTail: string;
}

/** This plugin's test API and Jest setup file, as files (TypeScript sources under ts-jest, compiled JS from dist). */
export function pluginModules(): { api: string; setup: string } {
  // Same extension as this file: .js from dist, .ts when Nx runs the workspace's plugin from its sources.
  const ext = extname(__filename);
  return { api: join(__dirname, `index${ext}`), setup: join(__dirname, `jest-setup${ext}`) };
}

export function resolveFrom(workspaceRoot: string, id: string): string | undefined {
  try {
    return require.resolve(id, { paths: [workspaceRoot, __dirname] });
  } catch {
    return undefined;
  }
}

export type JestConfig = Record<string, unknown>;

interface EsmJestOptions {
  transform: Record<string, unknown>;
  transformIgnorePatterns: string[];
  moduleNameMapper: Record<string, string>;
}

/**
 * The test API loads execa, which is ESM only: Jest's CommonJS runtime needs
 * it transformed. The rule lives in the package's esm-jest.js, shared with its
 * own jest.config.js; it sits two folders up from both src/integration and
 * dist/integration.
 */
function esmJestOptions(tsJest: string): EsmJestOptions {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const shared = require(join(__dirname, '..', '..', 'esm-jest.js')) as { esmJestOptions(tsJest: string, fromDir: string): EsmJestOptions };
  return shared.esmJestOptions(tsJest, __dirname);
}

export function jestConfig(request: Pick<JestRunRequest, 'projectRoot' | 'roots' | 'testMatch' | 'testTimeoutMs'>, modules: { api: string; setup: string }, tsJest: string | undefined): JestConfig {
  const transform: Record<string, unknown> = {};
  const esm = tsJest ? esmJestOptions(tsJest) : undefined;
  if (tsJest) {
    transform['^.+\\.tsx?$'] = [
      tsJest,
      {
        // Transpile only: type errors are the project's own typecheck's job, and there is no tsconfig to read here.
        tsconfig: { module: 'commonjs', target: 'ES2022', esModuleInterop: true, isolatedModules: true, sourceMap: true },
      },
    ];
    Object.assign(transform, esm?.transform);
  }
  return {
    rootDir: request.projectRoot,
    roots: request.roots,
    testMatch: request.testMatch.map((p) => join(request.projectRoot, p)),
    testEnvironment: 'node',
    transform,
    moduleNameMapper: { ...esm?.moduleNameMapper, [`^${API_MODULE.replace('/', '\\/')}$`]: modules.api },
    ...(esm ? { transformIgnorePatterns: esm.transformIgnorePatterns } : {}),
    setupFilesAfterEnv: [modules.setup],
    testTimeout: request.testTimeoutMs,
    watchman: false,
    modulePathIgnorePatterns: ['<rootDir>/target/', '<rootDir>/dist/'],
  };
}

export async function runJest(request: JestRunRequest): Promise<JestRunOutcome> {
  const jestBin = resolveFrom(request.workspaceRoot, 'jest/bin/jest');
  if (!jestBin) {
    throw new MultiarchError(`Jest is not installed in the workspace at ${request.workspaceRoot}.`, 'Install it: npm install -D jest ts-jest.');
  }
  const tsJest = resolveFrom(request.workspaceRoot, 'ts-jest');
  if (!tsJest && request.testFiles.some((f) => /\.tsx?$/.test(f))) {
    throw new MultiarchError('The arch tests are TypeScript, but ts-jest is not installed in the workspace.', 'Install it: npm install -D ts-jest.');
  }
  const config = jestConfig(request, pluginModules(), tsJest);
  const args = [
    jestBin,
    '--config',
    JSON.stringify(config),
    '--ci',
    '--json',
    '--outputFile',
    request.resultsFile,
    `--maxWorkers=${request.maxWorkers}`,
    // A test that leaves a socket open must not hang the task; started processes are stopped by the setup file.
    '--forceExit',
    '--runTestsByPath',
    ...request.testFiles,
  ];
  const child = spawn(process.execPath, args, {
    cwd: request.workspaceRoot,
    env: { ...process.env, ...request.env },
    stdio: ['ignore', 'inherit', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
  });
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
  }, request.timeoutMs);
  const exitCode = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  clearTimeout(timer);
  // Whatever the tests started in their own groups was stopped by the setup file; this catches Jest's own workers.
  killGroup('SIGKILL');
  let results: JestAggregatedResult | undefined;
  try {
    results = JSON.parse(await readFile(request.resultsFile, 'utf8')) as JestAggregatedResult;
  } catch {
    results = undefined;
  }
  return { exitCode, timedOut, results, stderrTail: stderr.trim().split('\n').slice(-30).join('\n') };
}
