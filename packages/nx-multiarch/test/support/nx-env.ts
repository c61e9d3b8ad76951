/**
 * The Nx settings of every Nx command the tests run in a workspace:
 * - no daemon: each command stands alone, as on CI;
 * - no terminal UI and no Nx Cloud: output is read as plain text, and nothing
 *   leaves the machine;
 * - the project-graph plugins loaded in Nx's own process
 *   (`NX_ISOLATE_PLUGINS=false`), as the jobs of the generated CI workflow and
 *   `tools/main-job.sh` run Nx. Nx's default starts a worker process per
 *   plugin (four here), which costs about 1 s of CPU in every command, and the
 *   suite runs hundreds of them on a 2-core machine.
 *
 * The e2e test keeps Nx's default (plugin workers), as a new user's first
 * run has it, and `tools/bench/plugin-isolation.sh` checks that the project
 * graph is the same both ways.
 */
export const NX_TEST_ENV = {
  NX_DAEMON: 'false',
  NX_TUI: 'false',
  NX_NO_CLOUD: 'true',
  NX_ISOLATE_PLUGINS: 'false',
} as const;
