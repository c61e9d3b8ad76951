import type { GitlabCache, GitlabJob, GitlabPipeline, GitlabRule } from './gitlab-ci';
import { SECRETS, setupCommandLine, sharedEnv, type WorkflowSettings } from './workflow';

/**
 * The GitLab CI/CD twin of the GitHub workflow: one build job per arch
 * (parallel:matrix, each on the runner its RUNNER tag names), then a publish
 * job on the main branch and tags that restores every arch from the remote
 * cache and pushes the multi-arch indexes.
 *
 * The read-write cache token is a protected CI/CD variable, which GitLab
 * gives only to pipelines of protected branches and tags; merge request
 * pipelines (code nobody has merged yet) get the read-only token
 * (CVE-2025-36852).
 */

const TOKEN = 'NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN';

/** A pipeline of reviewed code: a push to the main branch, or a tag, on a protected ref. */
function trusted(mainBranch: string): string {
  return `$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_REF_PROTECTED == "true" && ($CI_COMMIT_BRANCH == "${mainBranch}" || $CI_COMMIT_TAG)`;
}

function tokenRules(mainBranch: string): GitlabRule[] {
  return [
    { if: trusted(mainBranch), variables: { [TOKEN]: `$${SECRETS.readWriteToken}` } },
    { when: 'on_success', variables: { [TOKEN]: `$${SECRETS.readOnlyToken}` } },
  ];
}

/**
 * GitLab keys a cache on at most two files. The module cache lives in the
 * project folder because GitLab caches only paths inside it.
 */
function dependencyCaches(s: WorkflowSettings): GitlabCache[] {
  const caches: GitlabCache[] = [];
  if (s.facts.goVersionFile && s.facts.goSums.length > 0) caches.push({ key: { prefix: 'go-mod', files: s.facts.goSums.slice(0, 2) }, paths: ['.cache/go-mod/'] });
  if (s.facts.hasRust && s.facts.cargoLocks.length > 0) caches.push({ key: { prefix: 'cargo-registry', files: s.facts.cargoLocks.slice(0, 2) }, paths: ['.cache/cargo/registry/', '.cache/cargo/git/db/'] });
  return caches;
}

/** NX_BASE: the merge request's base, the commit before a push, or the parent commit. */
const AFFECTED_BASE = [
  'if [ -n "${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}" ]; then base="$CI_MERGE_REQUEST_DIFF_BASE_SHA"',
  'elif [ -n "${CI_COMMIT_BEFORE_SHA:-}" ] && [ "$CI_COMMIT_BEFORE_SHA" != 0000000000000000000000000000000000000000 ] && git cat-file -e "$CI_COMMIT_BEFORE_SHA^{commit}" 2>/dev/null; then base="$CI_COMMIT_BEFORE_SHA"',
  'else base="HEAD~1"; fi',
  'export NX_BASE="$base" NX_HEAD="$(git rev-parse HEAD)"',
].join('\n');

function buildJob(s: WorkflowSettings): GitlabJob {
  return {
    stage: 'build',
    tags: ['$RUNNER'],
    parallel: { matrix: s.legs.map((leg) => ({ ARCH: leg.arch, RUNNER: leg.runner })) },
    rules: tokenRules(s.mainBranch),
    cache: dependencyCaches(s),
    before_script: ['npm ci', setupCommandLine('"$ARCH"', s), ...(s.setupCommand ? [s.setupCommand] : [])],
    script: [AFFECTED_BASE, 'npx nx affected -t "docker-arch-build--$ARCH" "arch-integration--$ARCH"'],
  };
}

function publishJob(s: WorkflowSettings): GitlabJob {
  return {
    stage: 'publish',
    ...(s.runsOn ? { tags: [s.runsOn] } : {}),
    needs: ['build'],
    rules: [{ if: trusted(s.mainBranch), variables: { [TOKEN]: `$${SECRETS.readWriteToken}` } }],
    before_script: ['npm ci'],
    script: ['npx nx run-many -t manifest-push'],
  };
}

export function buildGitlabPipeline(s: WorkflowSettings): GitlabPipeline {
  return {
    workflow: {
      rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }, { if: '$CI_COMMIT_TAG' }, { if: `$CI_COMMIT_BRANCH == "${s.mainBranch}"` }],
    },
    stages: ['build', 'publish'],
    variables: {
      // nx affected compares against the base commit: a full clone.
      GIT_DEPTH: '0',
      GOMODCACHE: '$CI_PROJECT_DIR/.cache/go-mod',
      CARGO_HOME: '$CI_PROJECT_DIR/.cache/cargo',
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `$${SECRETS.cacheServer}`,
      ...sharedEnv(s),
    },
    build: buildJob(s),
    publish: publishJob(s),
  };
}

export const GITLAB_HEADER = [
  'Written by `nx g nx-multiarch:ci-workflow --provider=gitlab`.',
  '',
  'build: one job per arch (parallel:matrix, on the runner its RUNNER tag names)',
  '  runs only what the change affects; `nx-multiarch setup` installs what the',
  '  arch needs on that runner (cross gcc, Rust target std, qemu-user; static',
  '  programs run natively on a runner of the arch). The image needs Node.js, Go at the',
  '  version go.mod asks for, and rustup when the workspace has Rust.',
  'publish: on the main branch and on tags, restores every arch from the cache',
  '  and pushes one multi-arch image index per image.',
  '',
  'CI/CD variables: NX_SELF_HOSTED_REMOTE_CACHE_SERVER (the URL),',
  `  ${SECRETS.readWriteToken} (protected and masked: GitLab gives it only to`,
  `  protected branches and tags), ${SECRETS.readOnlyToken} (masked; merge`,
  `  requests read the cache but never write it, CVE-2025-36852), and`,
  `  ${SECRETS.registryUsername} / ${SECRETS.registryPassword} (protected, masked).`,
];
