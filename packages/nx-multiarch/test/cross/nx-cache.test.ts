import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/util/exec';
import { outputDir } from '../../src/outputs/paths';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { cleanUpTemp, sha256File } from './helpers';
import { NX_TEST_ENV } from '../support/nx-env';

/**
 * The caching promises, through real `npx nx` in a fresh clone of this
 * repository (so the suite never touches the checkout's own dist/): one cache
 * entry per (project, arch), a second run is a hit, building another arch does
 * not evict the first, and a deleted dist/ comes back from the cache without
 * compiling. The cache lives in a temporary folder (NX_CACHE_DIRECTORY), so the
 * test neither depends on nor pollutes the developer's cache.
 */
jest.setTimeout(900_000);

const PROJECT = 'linkerd2-proxy';
const TARBALL = 'linkerd2-proxy-v0.1.0-linux-arm64.tar.gz';
let checkout: Checkout;
let WORKSPACE_ROOT: string;
/** Where cargo-cross leaves the unstripped binary: present only if cargo linked it. */
let CARGO_ARTIFACT: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  checkout = await checkoutRepository();
  const clone = await checkout.clone('nx-cache');
  WORKSPACE_ROOT = clone.dir;
  CARGO_ARTIFACT = join(WORKSPACE_ROOT, '.nx-multiarch/cargo-target', PROJECT, 'arm64', 'aarch64-unknown-linux-gnu/release/linkerd2-proxy');
  // Nx loads this local plugin from its TypeScript sources (@swc-node/register), so no build step is needed.
  env = { ...process.env, ...NX_TEST_ENV, NX_CACHE_DIRECTORY: clone.cacheDir };
  // A remote cache would answer for the local one and hide what this test checks.
  delete env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
  delete env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN;
}, 300_000);
afterAll(async () => {
  await checkout?.remove();
  cleanUpTemp();
});

async function nxRun(arch: string): Promise<string> {
  const result = await run('npx', ['nx', 'run', `${PROJECT}:cargo-cross`, `--arch=${arch}`], { cwd: WORKSPACE_ROOT, env, timeoutMs: 600_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.exitCode !== 0) throw new Error(`nx run ${PROJECT}:cargo-cross --arch=${arch} failed (${result.exitCode}):\n${output}`);
  return output;
}

function isCacheHit(output: string): boolean {
  return /\[local cache\]|existing outputs match the cache/.test(output);
}

function tarballSha(arch: string): string {
  return sha256File(join(outputDir(WORKSPACE_ROOT, 'cross', PROJECT, arch), TARBALL.replace('arm64', arch)));
}

describe('nx run linkerd2-proxy:cargo-cross', () => {
  let first = '';

  it('builds arm64 on the first run (empty cache)', async () => {
    const output = await nxRun('arm64');
    expect(isCacheHit(output)).toBe(false);
    expect(output).toContain('cargo-cross: linkerd2-proxy 0.1.0 for linux/arm64');
    first = tarballSha('arm64');
  });

  it('is a cache hit the second time, with the same package', async () => {
    const output = await nxRun('arm64');
    expect(isCacheHit(output)).toBe(true);
    expect(tarballSha('arm64')).toBe(first);
  });

  it('builds arm as its own cache entry without evicting arm64', async () => {
    const armOutput = await nxRun('arm');
    expect(isCacheHit(armOutput)).toBe(false);
    expect(existsSync(join(outputDir(WORKSPACE_ROOT, 'cross', PROJECT, 'arm'), 'linkerd2-proxy-v0.1.0-linux-arm.tar.gz'))).toBe(true);
    const again = await nxRun('arm64');
    expect(isCacheHit(again)).toBe(true);
    expect(tarballSha('arm64')).toBe(first);
  });

  it('restores a deleted dist/ from the cache without compiling', async () => {
    rmSync(join(WORKSPACE_ROOT, 'dist/cross', PROJECT), { recursive: true, force: true });
    // If the task ran, cargo would have to link this file again.
    rmSync(CARGO_ARTIFACT, { force: true });
    const output = await nxRun('arm64');
    expect(isCacheHit(output)).toBe(true);
    expect(tarballSha('arm64')).toBe(first);
    expect(existsSync(join(outputDir(WORKSPACE_ROOT, 'cross', PROJECT, 'arm64'), 'linkerd2-proxy'))).toBe(true);
    expect(existsSync(CARGO_ARTIFACT)).toBe(false);
  });
});
