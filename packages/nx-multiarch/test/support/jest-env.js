/**
 * Runs before every test file. The tests start nested Nx runs and other CLIs
 * and read what they print, so, when the suite itself runs as an Nx task
 * (`nx run-many -t test`), nothing of that outer task may leak into them:
 * no forced colours in the output, and none of the settings Nx gives the
 * processes of a task (its hash, project, output capture, ancestry).
 */
process.env.FORCE_COLOR = '0';
const OUTER_TASK_SETTINGS = [
  'NX_FORKED_TASK_EXECUTOR',
  'NX_INVOCATION_ANCESTOR_PIDS',
  'NX_SKIP_NX_CACHE',
  'NX_TASK_HASH',
  'NX_TASK_TARGET_CONFIGURATION',
  'NX_TASK_TARGET_PROJECT',
  'NX_TASK_TARGET_TARGET',
  'NX_WORKSPACE_ROOT',
  'NX_BATCH_MODE',
  'NX_CACHE_FAILURES',
  'NX_DISABLE_NX_CACHE',
  'NX_LOAD_DOT_ENV_FILES',
  'NX_ORIGINAL_FORCE_COLOR',
  'NX_PREFIX_OUTPUT',
  'NX_STREAM_OUTPUT',
  'NX_TASKS_RUNNER_DYNAMIC_OUTPUT',
  'NX_TERMINAL_CAPTURE_STDERR',
  'NX_TERMINAL_OUTPUT_PATH',
  'NX_TUI',
  'NX_TUI_SKIP_CAPABILITY_CHECK',
];
for (const name of OUTER_TASK_SETTINGS) delete process.env[name];

// One Debian package cache (apt lists per arch, .debs) for every build the
// tests run, workspace clones included: the lists and packages are fetched
// once per machine, not once per clone. The .debs are checked against the
// lists' SHA256 on every use, and the lists are refreshed when a day old.
process.env.NX_MULTIARCH_PACKAGE_CACHE ??= require('node:path').join(require('node:os').tmpdir(), 'nx-multiarch-test-debian-packages');
