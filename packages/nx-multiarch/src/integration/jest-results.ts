/**
 * The parts of Jest's `--json` output (its AggregatedResult) that the JUnit
 * writer reads. Field names are Jest's.
 */
export type JestAssertionStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled' | 'focused';

export interface JestAssertionResult {
  ancestorTitles: string[];
  title: string;
  fullName: string;
  status: JestAssertionStatus;
  /** Milliseconds; null or absent for tests that did not run. */
  duration?: number | null;
  failureMessages: string[];
}

export interface JestTestFileResult {
  /** Absolute path of the test file. */
  name: string;
  status: 'passed' | 'failed' | 'focused';
  /** The file-level failure (a suite that failed to load, an afterAll that threw). */
  message: string;
  startTime: number;
  endTime: number;
  assertionResults: JestAssertionResult[];
}

export interface JestAggregatedResult {
  success: boolean;
  startTime: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  numRuntimeErrorTestSuites: number;
  numTotalTestSuites: number;
  testResults: JestTestFileResult[];
}
