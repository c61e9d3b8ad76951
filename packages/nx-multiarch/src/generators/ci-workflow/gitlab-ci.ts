/**
 * The part of a GitLab CI/CD file (.gitlab-ci.yml) this generator writes,
 * typed. Field names are GitLab's; see "CI/CD YAML syntax reference".
 */
export type GitlabRule = {
  if?: string;
  when?: 'on_success' | 'never' | 'always' | 'manual';
  variables?: Record<string, string>;
};

export type GitlabCache = {
  key: { files: string[]; prefix?: string };
  paths: string[];
  policy?: 'pull' | 'push' | 'pull-push';
};

export type GitlabJob = {
  stage: string;
  image?: string;
  tags?: string[];
  needs?: string[];
  parallel?: { matrix: Array<Record<string, string | string[]>> };
  rules?: GitlabRule[];
  variables?: Record<string, string>;
  cache?: GitlabCache[];
  before_script?: string[];
  script: string[];
};

export type GitlabPipeline = {
  workflow: { rules: GitlabRule[] };
  stages: string[];
  variables: Record<string, string>;
  build: GitlabJob;
  publish: GitlabJob;
};
