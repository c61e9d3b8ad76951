import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { parse } from 'yaml';
import ciWorkflowGenerator from '../../src/generators/ci-workflow/generator';
import type { Job, Step } from '../../src/generators/ci-workflow/github-workflow';
import { trustedCondition } from '../../src/generators/ci-workflow/workflow';
import { run, runChecked } from '../../src/util/exec';
import { startCacheServer, WORKSPACE_ROOT, type CacheServerProcess } from '../support/cache-server';
import { startRegistry, type RegistryServer } from '../support/registry-server';

/**
 * The generated GitHub workflow, run on this machine as GitHub would run it
 * for a push to main: each job on its own fresh clone, its `run:` steps in
 * order with bash -e, and each `uses:` step replaced by what it provides
 * (the clone, Node with the npm cache restored, Go). The build job's matrix
 * leg builds and tests only what the pushed commit affects and writes the
 * results to a loopback cache server; the publish job, on another clone,
 * restores them and pushes to a loopback registry.
 *
 * Kept small for a shared machine: the workspace is cut down to the plugin
 * and linkerd2-proxy-init, built for amd64 only.
 */
jest.setTimeout(1_800_000);

const ARCH = 'amd64';
const MAIN = 'main';

let root: string;
let registry: RegistryServer | undefined;
let cache: CacheServerProcess | undefined;

const git = (cwd: string, ...args: string[]) =>
  runChecked('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', ...args], { cwd, timeoutMs: 300_000 }).then((r) => r.stdout.trim());

/** What a GitHub expression in the generated file evaluates to for a push to main; anything else is an error. */
function evaluate(expression: string, context: { matrix: Record<string, string>; secrets: Record<string, string>; before: string }): string {
  const e = expression.trim();
  const token = /^\((.*)\) && secrets\.(\w+) \|\| secrets\.(\w+)$/.exec(e);
  if (token) {
    if (token[1] !== trustedCondition(MAIN)) throw new Error(`unexpected trust condition: ${token[1]}`);
    return context.secrets[token[2]] ?? ''; // a push to main is trusted
  }
  const matrix = /^matrix\.(\w+)$/.exec(e);
  if (matrix) return context.matrix[matrix[1]] ?? '';
  const secret = /^secrets\.(\w+)$/.exec(e);
  if (secret) return context.secrets[secret[1]] ?? '';
  const github: Record<string, string> = { 'github.event_name': 'push', 'github.base_ref': '', 'github.event.before': context.before, 'github.ref': `refs/heads/${MAIN}`, 'github.workflow': 'nx-multiarch' };
  if (e in github) return github[e];
  throw new Error(`the runner here does not evaluate \${{ ${e} }}`);
}

function substitute(text: string, context: Parameters<typeof evaluate>[1]): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_m, e: string) => evaluate(e, context));
}

/** A `uses:` step, replaced by what it provides on this machine (checked, never assumed). */
async function provide(step: Extract<Step, { uses: string }>, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const action = step.uses.split('@')[0];
  if (action === 'actions/checkout') {
    expect(step.with?.['fetch-depth']).toBe(0); // the clone has the whole history
  } else if (action === 'actions/setup-node') {
    expect(process.versions.node.split('.')[0]).toBe(String(step.with?.['node-version']));
    env.npm_config_offline = 'true'; // `cache: npm` restores the npm cache: npm ci needs no registry
  } else if (action === 'actions/setup-go') {
    const goMod = await readFile(join(dir, String(step.with?.['go-version-file'])), 'utf8');
    const wanted = /^go (\d+\.\d+)/m.exec(goMod)?.[1] ?? '';
    const have = (await runChecked('go', ['env', 'GOVERSION'], { env })).stdout.trim().replace(/^go/, '');
    expect(Number(have.split('.')[1])).toBeGreaterThanOrEqual(Number(wanted.split('.')[1]));
  } else if (action !== 'actions/cache') {
    throw new Error(`no stand-in for ${step.uses}`);
  }
}

/** A job run as GitHub runs it: the workflow's env, then the job's, then each step's. */
async function runJob(name: string, job: Job, workflowEnv: Record<string, string>, dir: string, context: Parameters<typeof evaluate>[1]): Promise<string> {
  const envFile = join(dir, '..', `${name}.github_env`);
  await writeFile(envFile, '');
  const outer = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_') && k !== 'SOURCE_DATE_EPOCH' && !k.startsWith('npm_')));
  const env: NodeJS.ProcessEnv = { ...outer, CI: 'true', NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', GITHUB_ENV: envFile };
  for (const [k, v] of Object.entries({ ...workflowEnv, ...job.env })) env[k] = substitute(v, context);
  let log = '';
  for (const step of job.steps) {
    if ('uses' in step) {
      await provide(step, dir, env);
      continue;
    }
    const stepEnv = { ...env };
    for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = substitute(v, context);
    const script = substitute(step.run, context);
    const result = await run('bash', ['-e', '-c', script], { cwd: dir, env: stepEnv, timeoutMs: 1_200_000 });
    log += `$ ${script}\n${result.stdout}${result.stderr}\n`;
    if (result.exitCode !== 0) throw new Error(`${name}: step "${step.name ?? script}" failed (exit ${result.exitCode}):\n${log.slice(-8000)}`);
    for (const line of (await readFile(envFile, 'utf8')).split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return log;
}

afterAll(async () => {
  await cache?.stop();
  await registry?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

it('build → publish: the affected amd64 leg fills the remote cache, publish restores it and pushes the index', async () => {
  root = await mkdtemp(join(tmpdir(), 'nxm-ci-run-'));
  registry = await startRegistry();
  const storage = join(root, 'cache-store');
  cache = await startCacheServer({ storage: `file://${storage}` });

  // The repository as pushed: this commit cut down, plugin options for one arch and the loopback registry.
  const origin = join(root, 'origin');
  await git(root, 'clone', '--quiet', '--no-hardlinks', WORKSPACE_ROOT, origin);
  for (const gone of ['packages/linkerd2', 'packages/linkerd2-proxy', 'packages/nx-multiarch-cache-server']) await rm(join(origin, gone), { recursive: true, force: true });
  const nxJson = JSON.parse(await readFile(join(origin, 'nx.json'), 'utf8'));
  const entry = nxJson.plugins.find((p: { plugin: string }) => p.plugin === 'nx-multiarch');
  entry.options = { ...entry.options, arches: [ARCH], registry: registry.host };
  await writeFile(join(origin, 'nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
  const tree = new FsTree(origin, false);
  await ciWorkflowGenerator(tree, { skipFormat: true });
  flushChanges(origin, tree.listChanges());
  await git(origin, 'add', '-A');
  await git(origin, 'commit', '--quiet', '-m', 'base: proxy-init only, amd64, CI workflow');
  const before = await git(origin, 'rev-parse', 'HEAD');
  const main = join(origin, 'packages/linkerd2-proxy-init/main.go');
  await writeFile(main, `${await readFile(main, 'utf8')}\n// a change the pushed commit makes\n`);
  await git(origin, 'commit', '--quiet', '-am', 'change proxy-init');

  const workflow = parse(await readFile(join(origin, '.github/workflows/nx-multiarch.yml'), 'utf8')) as { env?: Record<string, string>; jobs: { build: Job; publish: Job } };
  // The jobs load Nx's plugins in Nx's own process (the generator's default): this run proves that setting works end to end.
  expect(workflow.env).toEqual({ NX_ISOLATE_PLUGINS: 'false' });
  const secrets = {
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cache.url,
    NX_CACHE_READ_WRITE_TOKEN: cache.readWriteToken,
    NX_CACHE_READ_ONLY_TOKEN: cache.readOnlyToken,
  };

  // build: the matrix legs one after another (here one).
  const legs = workflow.jobs.build.strategy?.matrix.include ?? [];
  expect(legs).toEqual([{ arch: ARCH, runner: 'ubuntu-latest' }]);
  let buildLog = '';
  for (const leg of legs) {
    const dir = join(root, `build-${leg.arch}`, 'workspace');
    await git(root, 'clone', '--quiet', origin, dir);
    buildLog += await runJob(`build-${leg.arch}`, workflow.jobs.build, workflow.env ?? {}, dir, { matrix: leg, secrets, before });
  }
  expect(buildLog).toContain('nx-multiarch setup: ');
  expect(buildLog).toMatch(/nx run linkerd2-proxy-init:docker-arch-build--amd64/);
  expect(buildLog).toMatch(/nx run linkerd2-proxy-init:arch-integration--amd64/);
  expect(cache.log()).toMatch(/PUT \/v1\/cache\/\w+ 200 .*token=read-write/);

  // publish: a fresh clone, nothing local; every image comes from the remote cache.
  const dir = join(root, 'publish', 'workspace');
  await git(root, 'clone', '--quiet', origin, dir);
  const publishLog = await runJob('publish', workflow.jobs.publish, workflow.env ?? {}, dir, { matrix: {}, secrets, before });
  expect(publishLog).toMatch(/nx run linkerd2-proxy-init:docker-arch-build--amd64 +\[remote cache\]/);
  // Nothing compiled in publish: every task it ran came from the remote cache.
  const built = publishLog.split('\n').filter((l) => /^> nx run linkerd2-proxy-init:(go-cross|docker-arch-build)--/.test(l) && !l.includes('[remote cache]'));
  expect(built).toEqual([]);
  const catalog = await run('curl', ['-fsS', `${registry.url}/v2/_catalog`]);
  expect(catalog.stdout).toMatch(/linkerd2-proxy-init/);
});
