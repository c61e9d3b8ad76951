import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outputDir } from '../../src/outputs/paths';
import { runChecked } from '../../src/util/exec';
import { sha256File } from '../cross/helpers';
import { runNx, type Clone, type NxRun } from '../support/nx-clone';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { CACHE_SERVER_IMAGE } from '../support/workspace-projects';

/**
 * `nx affected` on the real workspace, in a real git repository: after a
 * warm build of every image for arm64, a commit that changes one project
 * makes `nx affected -t docker-arch-build --arch=arm64` run exactly the
 * tasks that change touches — the rest are not in the run or come from the
 * local cache — and a commit that changes only README.md runs nothing.
 *
 * First, the local cache of the warm build's proxy package: a second run is
 * a hit with the same package, and a deleted dist/ comes back from the cache
 * without compiling. (That each arch is its own cache entry, restored beside
 * the others, is shown by test/cache-server/ci-matrix.test.ts, whose clone C
 * restores every image and package of three arches into one clone.)
 *
 * Each test starts from the warm commit (its change is the one commit on
 * top), so the tests do not depend on each other's changes or order: one
 * failing does not make the next one fail.
 */
jest.setTimeout(900_000);

interface TaskLine {
  task: string;
  /** `local cache`, … or undefined when the task ran. */
  source?: string;
}

/** Changes one string literal of a source file, as a one-line code change does, so the binary changes too. */
async function editLine(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer holds ${JSON.stringify(from)}: update this test`);
  await writeFile(file, text.replace(from, to));
}

/** The `> nx run project:target [source]` lines Nx prints (stream output), one per task. */
function taskLines(output: string): TaskLine[] {
  return [...output.matchAll(/^> nx run ([\w.-]+:[\w.-]+)(?:[^\n[]*\[([^\]]+)\])?/gm)].map((m) => ({ task: m[1], source: m[2] }));
}

function ran(run: NxRun): string[] {
  return taskLines(run.output)
    .filter((l) => l.source === undefined)
    .map((l) => l.task)
    .sort();
}

function expectSuccess(run: NxRun, what: string): void {
  if (run.exitCode !== 0) throw new Error(`${what} failed (exit ${run.exitCode}):\n${run.output.slice(-6000)}`);
}

let checkout: Checkout;
let clone: Clone;
/** The commit the warm build was made from. */
let warmHead = '';
/** What the warm build ran (no task came from a cache: the clone's cache was empty). */
let warmRan: string[] = [];
/** The sha256 of the proxy package the warm build made. */
let warmProxyPackage = '';

const PROXY = 'linkerd2-proxy';
const proxyPackage = () => join(outputDir(clone.dir, 'cross', PROXY, 'arm64'), 'linkerd2-proxy-v0.1.0-linux-arm64.tar.gz');
/** The binary cargo links in the clone's own target folder: a task that runs links it again. */
const cargoArtifact = () => join(clone.dir, '.nx-multiarch', 'cargo-target', PROXY, 'arm64', 'aarch64-unknown-linux-gnu', 'release', 'linkerd2-proxy');

async function commit(message: string): Promise<void> {
  const git = (...args: string[]) => runChecked('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: clone.dir });
  await git('add', '-A', '--', 'packages', 'README.md');
  await git('commit', '--quiet', '-m', message);
}

const affectedArm64 = () => runNx(clone, ['affected', '-t', 'docker-arch-build', '--arch=arm64', '--base=HEAD~1', '--head=HEAD']);

beforeAll(async () => {
  checkout = await checkoutRepository();
  clone = await checkout.clone('affected');
  const warm = await runNx(clone, ['run-many', '-t', 'docker-arch-build', '--arch=arm64', `--exclude=${CACHE_SERVER_IMAGE}`]);
  expectSuccess(warm, 'the warm-up build of every arm64 image');
  warmRan = ran(warm);
  warmProxyPackage = sha256File(proxyPackage());
  warmHead = (await runChecked('git', ['rev-parse', 'HEAD'], { cwd: clone.dir })).stdout.trim();
}, 900_000);

// Back to the warm commit's sources (dist/ and the Nx cache stay: a later commit is built over them, as in CI).
beforeEach(async () => {
  await runChecked('git', ['reset', '--quiet', '--hard', warmHead], { cwd: clone.dir });
});

afterAll(async () => {
  await checkout?.remove();
});

/** How Nx marks a task it took from the local cache. */
const LOCAL_HITS = ['local cache', 'existing outputs match the cache, left as is'];

describe(`the local cache of ${PROXY}:cargo-cross --arch=arm64`, () => {
  const cargoCross = () => runNx(clone, ['run', `${PROXY}:cargo-cross`, '--arch=arm64']);
  const source = (run: NxRun) => taskLines(run.output).find((l) => l.task === `${PROXY}:cargo-cross`)?.source;

  it('the warm build compiled the proxy; a second run is a cache hit with the same package', async () => {
    expect(warmRan).toContain(`${PROXY}:cargo-cross`);
    const again = await cargoCross();
    expectSuccess(again, 'the second cargo-cross run');
    // Nx restores the entry, or keeps dist/ when it already holds the entry's files.
    expect(LOCAL_HITS).toContain(source(again));
    expect(sha256File(proxyPackage())).toBe(warmProxyPackage);
  });

  it('restores a deleted dist/ from the cache without compiling', async () => {
    await rm(join(clone.dir, 'dist', 'cross', PROXY), { recursive: true, force: true });
    // Had the task run, cargo would have linked this file again.
    await rm(cargoArtifact(), { force: true });
    const restored = await cargoCross();
    expectSuccess(restored, 'cargo-cross after deleting dist/');
    expect(source(restored)).toBe('local cache');
    expect(sha256File(proxyPackage())).toBe(warmProxyPackage);
    expect(existsSync(join(outputDir(clone.dir, 'cross', PROXY, 'arm64'), 'linkerd2-proxy'))).toBe(true);
    expect(existsSync(cargoArtifact())).toBe(false);
  });
});

it('a change in linkerd2-proxy rebuilds the proxy package and the proxy image, and nothing else', async () => {
  await editLine(join(clone.dir, 'packages/linkerd2-proxy/src/main.rs'), '"unexpected arguments: {}"', '"unexpected argument(s): {}"');
  await commit('proxy: reword an error');
  const result = await affectedArm64();
  expectSuccess(result, 'nx affected after a proxy change');
  expect(ran(result)).toEqual(['linkerd2-proxy-image:docker-arch-build', 'linkerd2-proxy:cargo-cross']);
  // The proxy image's other input, proxy-init's binary, came from the cache; no other image is in the run.
  const inRun = taskLines(result.output).map((l) => l.task);
  expect(inRun.filter((t) => t.endsWith(':docker-arch-build'))).toEqual(['linkerd2-proxy-image:docker-arch-build']);
});

it('a change in proxy-init rebuilds its binary, its image and the proxy image', async () => {
  await editLine(join(clone.dir, 'packages/linkerd2-proxy-init/main.go'), '(all settings are --flags; see --help)', '(every setting is a --flag; see --help)');
  await commit('proxy-init: reword an error');
  const result = await affectedArm64();
  expectSuccess(result, 'nx affected after a proxy-init change');
  expect(ran(result)).toEqual([
    'linkerd2-proxy-image:docker-arch-build',
    'linkerd2-proxy-init:docker-arch-build',
    'linkerd2-proxy-init:go-cross',
  ]);
});

it("a change in the controller rebuilds its binary and its image, not web's image, which holds only web's binary", async () => {
  await editLine(join(clone.dir, 'packages/linkerd2/controller/main.go'), '(see --help)', '(try --help)');
  await commit('controller: reword an error');
  const result = await affectedArm64();
  expectSuccess(result, 'nx affected after a controller change');
  // web names the controller for its integration test (implicitDependencies), so the project is affected;
  // its image depends on web's own go-cross only (narrow-image-deps.ts), so the image task is not.
  expect(ran(result)).toEqual(['linkerd2-controller:docker-arch-build', 'linkerd2-controller:go-cross']);
});

it('a change that leaves the binary as it was (a comment): the images that consume the binary are cache hits', async () => {
  await appendFile(join(clone.dir, 'packages/linkerd2-proxy-init/main.go'), '\n// a comment: the source changes, the binary does not\n');
  await commit('proxy-init: a comment');
  const result = await affectedArm64();
  expectSuccess(result, 'nx affected after a comment');
  // proxy-init's own tasks hash its sources and run; the proxy image hashes the binary's bytes, which did not change.
  expect(ran(result)).toEqual(['linkerd2-proxy-init:docker-arch-build', 'linkerd2-proxy-init:go-cross']);
  expect(taskLines(result.output).find((l) => l.task === 'linkerd2-proxy-image:docker-arch-build')?.source).toBe('local cache');
});

it('a change to README.md runs nothing', async () => {
  await appendFile(join(clone.dir, 'README.md'), '\nA line that builds nothing.\n');
  await commit('docs: README only');
  const result = await affectedArm64();
  expectSuccess(result, 'nx affected after a README change');
  expect(taskLines(result.output)).toEqual([]);
  expect(result.output).toMatch(/No tasks were run/);
});
