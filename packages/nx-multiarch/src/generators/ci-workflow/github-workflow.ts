/**
 * The part of a GitHub Actions workflow file this generator writes, typed.
 * Field names are GitHub's; see "Workflow syntax for GitHub Actions".
 * Type aliases rather than interfaces, so a workflow is plain YAML data.
 */
export type WorkflowFile = {
  name: string;
  on: WorkflowTriggers;
  permissions?: Record<string, 'read' | 'write' | 'none'>;
  concurrency?: { group: string; 'cancel-in-progress': string | boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
};

export type WorkflowTriggers = {
  push?: { branches?: string[]; tags?: string[] };
  pull_request?: { branches?: string[] };
  workflow_dispatch?: Record<string, never>;
};

export type Job = {
  name?: string;
  'runs-on': string;
  needs?: string | string[];
  if?: string;
  'timeout-minutes'?: number;
  strategy?: { 'fail-fast'?: boolean; matrix: { include: Array<Record<string, string>> } };
  env?: Record<string, string>;
  steps: Step[];
};

export type Step = UsesStep | RunStep;

export type UsesStep = {
  name?: string;
  uses: string;
  with?: Record<string, string | number | boolean>;
};

export type RunStep = {
  name?: string;
  run: string;
  env?: Record<string, string>;
};
