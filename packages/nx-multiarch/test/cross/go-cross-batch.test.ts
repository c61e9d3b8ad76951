import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runNx, taskOutput, type Clone, type NxRun } from '../support/nx-clone';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { sha256File } from './helpers';

/**
 * go-cross as Nx batches it (`nx run-many -t go-cross--arm64 --batch`): the
 * Go mains of the workspace built by one process, through real Nx. Each task
 * prints its own output under its own header, the binaries are the same
 * bytes as from one process per task, and a main that does not compile fails
 * its own task, with the compiler's message, while the others succeed.
 */
jest.setTimeout(900_000);

const MAINS: Record<string, string> = {
  'linkerd2-controller': 'dist/cross/linkerd2-controller/arm64/controller',
  'linkerd2-web': 'dist/cross/linkerd2-web/arm64/web',
  'linkerd2-proxy-init': 'dist/cross/linkerd2-proxy-init/arm64/linkerd2-proxy-init',
};
const PROJECTS = Object.keys(MAINS).join(',');

let checkout: Checkout;
let clone: Clone;

const goCrossArm64 = (...flags: string[]) => runNx(clone, ['run-many', '-t', 'go-cross--arm64', `--projects=${PROJECTS}`, '--skip-nx-cache', ...flags]);

function expectSuccess(run: NxRun, what: string): void {
  if (run.exitCode !== 0) throw new Error(`${what} failed (exit ${run.exitCode}):\n${run.output.slice(-6000)}`);
}

function binaryDigests(): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [project, path] of Object.entries(MAINS)) digests[project] = sha256File(join(clone.dir, path));
  return digests;
}

beforeAll(async () => {
  checkout = await checkoutRepository();
  clone = await checkout.clone('go-batch');
}, 900_000);

afterAll(async () => {
  await checkout?.remove();
});

it('builds every main in one batch, each under its own task, with the bytes of one process per task', async () => {
  const separate = await goCrossArm64();
  expectSuccess(separate, 'go-cross, one process per task');
  const separateDigests = binaryDigests();

  const batched = await goCrossArm64('--batch');
  expectSuccess(batched, 'go-cross --batch');
  expect(batched.output).toMatch(/Running 3 tasks with nx-multiarch:go-cross/);
  for (const project of Object.keys(MAINS)) {
    const own = taskOutput(batched.output, `${project}:go-cross--arm64`);
    expect(own).toMatch(/go-cross: \S+ dev for linux\/arm64 \(GOARCH=arm64\)/);
    expect(own).toMatch(/ sha256:[0-9a-f]{64}$/m);
  }
  expect(taskOutput(batched.output, 'linkerd2-web:go-cross--arm64')).not.toMatch(/controller sha256:/);
  expect(binaryDigests()).toEqual(separateDigests);
});

it('a main that does not compile fails its own task with the compiler\'s message; the others succeed', async () => {
  const main = join(clone.dir, 'packages/linkerd2/web/main.go');
  const source = await readFile(main, 'utf8');
  await writeFile(main, `${source}\nfunc broken() { undefinedName() }\n`);
  try {
    const batched = await goCrossArm64('--batch');
    expect(batched.exitCode).not.toBe(0);
    expect(taskOutput(batched.output, 'linkerd2-web:go-cross--arm64')).toMatch(/go build for linux\/arm64 failed with exit code 1:[\s\S]*undefined: undefinedName/);
    expect(taskOutput(batched.output, 'linkerd2-controller:go-cross--arm64')).toMatch(/controller sha256:[0-9a-f]{64}/);
    expect(taskOutput(batched.output, 'linkerd2-proxy-init:go-cross--arm64')).toMatch(/linkerd2-proxy-init sha256:[0-9a-f]{64}/);
  } finally {
    await writeFile(main, source);
  }
});
