import type { Arch } from '../../platform/platforms';
import type { Job, Step, WorkflowFile } from './github-workflow';
import type { WorkspaceFacts } from './workspace-facts';

/** Everything the workflow depends on, already validated. */
export interface WorkflowSettings {
  name: string;
  arches: readonly Arch[];
  mainBranch: string;
  nodeVersion: string;
  /** The publish job's runner, and every arch's that has no other. */
  runsOn: string;
  /** The runner label of each matrix arch, in matrix order. */
  legs: ReadonlyArray<{ arch: Arch; runner: string }>;
  facts: WorkspaceFacts;
  /** The rustup toolchain the build jobs add each target std to (when the workspace has Rust). */
  rustToolchain: string;
  /** An extra command run after the plugin's own set-up (e.g. sudo bash tools/setup.sh); none when undefined. */
  setupCommand?: string;
  /** Keep Nx's plugin workers (its default); false sets NX_ISOLATE_PLUGINS=false for every job. */
  isolatePlugins: boolean;
}

/**
 * Environment every job shares. Without isolation Nx loads its project-graph
 * plugins in its own process instead of one worker process each (four in a
 * workspace with this plugin: each starts Node and loads Nx again), about
 * 0.6 s of every Nx command on a 2-core runner (README, CI: "Plugins in Nx's own process").
 */
export function sharedEnv(s: Pick<WorkflowSettings, 'isolatePlugins'>): Record<string, string> {
  return s.isolatePlugins ? {} : { NX_ISOLATE_PLUGINS: 'false' };
}

/** Secrets the workflow reads; the README of the plugin lists them too. */
export const SECRETS = {
  cacheServer: 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER',
  readWriteToken: 'NX_CACHE_READ_WRITE_TOKEN',
  readOnlyToken: 'NX_CACHE_READ_ONLY_TOKEN',
  registryUsername: 'NX_MULTIARCH_REGISTRY_USERNAME',
  registryPassword: 'NX_MULTIARCH_REGISTRY_PASSWORD',
} as const;

/** A push to the main branch or of a tag: code that is already reviewed and merged. */
export function trustedCondition(mainBranch: string): string {
  return `github.event_name == 'push' && (github.ref == 'refs/heads/${mainBranch}' || startsWith(github.ref, 'refs/tags/'))`;
}

/**
 * The remote cache for every job. Only trusted builds get the read-write
 * token: a pull request runs code a stranger wrote, and with write access it
 * could store a poisoned result under a hash main will later ask for (the
 * CREEP advisory, CVE-2025-36852). Pull requests read the cache with a
 * read-only token, which the cache server refuses to write with.
 */
function cacheEnv(mainBranch: string): Record<string, string> {
  return {
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `\${{ secrets.${SECRETS.cacheServer} }}`,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: `\${{ (${trustedCondition(mainBranch)}) && secrets.${SECRETS.readWriteToken} || secrets.${SECRETS.readOnlyToken} }}`,
  };
}

/** Crates the build downloads, shared by every arch: the registry is the same for all of them. */
export const CARGO_CACHE_PATHS = ['~/.cargo/registry/index', '~/.cargo/registry/cache', '~/.cargo/git/db'];

/**
 * Checkout, Node and npm ci, and Go at the version go.mod asks for (the
 * Go runtime input of every go-cross task is that version, so the publish job
 * must have it too, or its hashes would not match the build jobs'). setup-go
 * caches the module and build caches keyed on every go.sum.
 */
function checkoutAndInstall(s: WorkflowSettings, withCaches: boolean): Step[] {
  const goVersionFile = s.facts.goVersionFile;
  return [
    // Full history: nx affected compares against the base commit.
    { uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } },
    { uses: 'actions/setup-node@v4', with: { 'node-version': s.nodeVersion, cache: 'npm' } },
    ...(goVersionFile
      ? [{ uses: 'actions/setup-go@v5', with: { 'go-version-file': goVersionFile, cache: withCaches, ...(withCaches ? { 'cache-dependency-path': '**/go.sum' } : {}) } }]
      : []),
    ...(s.facts.hasRust && withCaches
      ? [
          {
            name: 'Cache the crates registry',
            uses: 'actions/cache@v4',
            with: {
              path: CARGO_CACHE_PATHS.join('\n'),
              key: "cargo-registry-${{ runner.os }}-${{ hashFiles('**/Cargo.lock') }}",
              'restore-keys': 'cargo-registry-${{ runner.os }}-',
            },
          },
        ]
      : []),
    { run: 'npm ci' },
  ];
}

/** The command that installs what one arch needs (`--print` shows the script without running it). */
export function setupCommandLine(arch: string, s: Pick<WorkflowSettings, 'facts' | 'rustToolchain'>): string {
  return `npx nx-multiarch setup --arch ${arch}${s.facts.hasRust ? ` --rust-toolchain ${s.rustToolchain}` : ''}`;
}

/**
 * The plugin installs what the arch's tasks need on this runner (the same
 * package list its preflight errors name): cross gcc and the Rust target std,
 * and qemu-user (on a runner of the arch, static programs run natively).
 */
function archSetupSteps(s: WorkflowSettings): Step[] {
  return [
    {
      name: 'Install what the ${{ matrix.arch }} tasks need (nx-multiarch setup)',
      env: { ARCH: '${{ matrix.arch }}' },
      run: setupCommandLine('"$ARCH"', s),
    },
    ...(s.setupCommand ? [{ name: 'Run the workspace set-up command', run: s.setupCommand }] : []),
  ];
}

/**
 * NX_BASE for nx affected: the pull request's base branch, the commit before
 * a push, or the parent commit when the push has none (a new branch or tag).
 * The event values reach the shell as environment variables, never pasted
 * into the script, so a branch name cannot inject commands.
 */
const AFFECTED_BASE_STEP: Step = {
  name: 'Choose the base commit for nx affected',
  env: {
    EVENT_NAME: '${{ github.event_name }}',
    BASE_REF: '${{ github.base_ref }}',
    BEFORE: '${{ github.event.before }}',
  },
  run: [
    'if [ "$EVENT_NAME" = pull_request ]; then',
    '  base="origin/$BASE_REF"',
    "elif [ -n \"$BEFORE\" ] && [ \"$BEFORE\" != 0000000000000000000000000000000000000000 ] && git cat-file -e \"$BEFORE^{commit}\" 2>/dev/null; then",
    '  base="$BEFORE"',
    'else',
    '  base="HEAD~1"',
    'fi',
    'echo "NX_BASE=$base" >> "$GITHUB_ENV"',
    'echo "NX_HEAD=$(git rev-parse HEAD)" >> "$GITHUB_ENV"',
    '',
  ].join('\n'),
};

function buildJob(s: WorkflowSettings): Job {
  return {
    name: 'build and test (${{ matrix.arch }})',
    'runs-on': '${{ matrix.runner }}',
    strategy: { 'fail-fast': false, matrix: { include: s.legs.map((leg) => ({ arch: leg.arch, runner: leg.runner })) } },
    env: cacheEnv(s.mainBranch),
    steps: [
      ...checkoutAndInstall(s, true),
      ...archSetupSteps(s),
      AFFECTED_BASE_STEP,
      {
        name: 'Build and test the affected images for ${{ matrix.arch }}',
        // Cross-compiled, never emulated; each (project, arch) result lands in the remote cache
        // under the per-arch target names that manifest-push depends on.
        run: 'npx nx affected -t docker-arch-build--${{ matrix.arch }} arch-integration--${{ matrix.arch }}',
      },
    ],
  };
}

/**
 * Pushes every image as one multi-arch index, from the cache. manifest-push
 * depends on the per-arch targets (`docker-arch-build--<arch>`) the matrix
 * ran, so every one of them is a remote cache hit: nothing is compiled here.
 */
function publishJob(s: WorkflowSettings): Job {
  return {
    name: 'publish multi-arch images',
    'runs-on': s.runsOn,
    needs: 'build',
    if: trustedCondition(s.mainBranch),
    env: {
      ...cacheEnv(s.mainBranch),
      [SECRETS.registryUsername]: `\${{ secrets.${SECRETS.registryUsername} }}`,
      [SECRETS.registryPassword]: `\${{ secrets.${SECRETS.registryPassword} }}`,
    },
    steps: [
      ...checkoutAndInstall(s, false),
      { name: 'Push the multi-arch images (every image restored from the cache)', run: 'npx nx run-many -t manifest-push' },
    ],
  };
}

export function buildWorkflow(s: WorkflowSettings): WorkflowFile {
  const env = sharedEnv(s);
  return {
    name: s.name,
    on: {
      push: { branches: [s.mainBranch], tags: ['*'] },
      pull_request: { branches: [s.mainBranch] },
    },
    permissions: { contents: 'read' },
    concurrency: { group: '${{ github.workflow }}-${{ github.ref }}', 'cancel-in-progress': "${{ github.event_name == 'pull_request' }}" },
    ...(Object.keys(env).length > 0 ? { env } : {}),
    jobs: { build: buildJob(s), publish: publishJob(s) },
  };
}

export const WORKFLOW_HEADER = [
  'Written by `nx g nx-multiarch:ci-workflow`.',
  '',
  'build: one job per arch runs only what the change affects, cross-compiling',
  '  every binary and image for that arch and testing it; results go to the',
  '  self-hosted Nx remote cache. `nx-multiarch setup` installs what the arch',
  '  needs on its runner; on a runner of the arch, static programs run natively.',
  'publish: on the main branch and on tags, restores every arch from the cache',
  '  and pushes one multi-arch image index per image.',
  '',
  `Secrets: ${SECRETS.cacheServer} (the cache server's URL), ${SECRETS.readWriteToken}`,
  `  (used only by pushes to the main branch and tags), ${SECRETS.readOnlyToken} (pull`,
  `  requests: they may read the cache but never write it, CVE-2025-36852), and`,
  `  ${SECRETS.registryUsername} / ${SECRETS.registryPassword} for the registry.`,
];
