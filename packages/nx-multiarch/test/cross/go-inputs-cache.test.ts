import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostArch } from '../../src/platform/platforms';
import { run } from '../../src/util/exec';
import { runNx, type Clone, type NxRun } from '../support/nx-clone';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';

/**
 * The cache key of an inferred go-cross target, through real `nx run` in a
 * fresh clone: a Go module whose main package (no project.json, so every
 * target is inferred) embeds a file of another package. A change to go.sum,
 * or to the embedded file, lies outside the project's folder and is no .go
 * file, yet it changes what `go build` does: the next run must build again,
 * never replay the old binary. A change the binary cannot see stays a hit.
 */
jest.setTimeout(900_000);

const MODULE = 'packages/embed-probe';
const PROJECT = 'embedprobe';
const arch = hostArch();
let checkout: Checkout;
let clone: Clone;

async function write(path: string, text: string): Promise<void> {
  await mkdir(join(clone.dir, path, '..'), { recursive: true });
  await writeFile(join(clone.dir, path), text);
}

async function goCross(): Promise<NxRun> {
  const result = await runNx(clone, ['run', `${PROJECT}:go-cross`, `--arch=${arch}`]);
  if (result.exitCode !== 0) throw new Error(`nx run ${PROJECT}:go-cross failed (exit ${result.exitCode}):\n${result.output.slice(-6000)}`);
  return result;
}

function isCacheHit(result: NxRun): boolean {
  return /\[local cache\]|existing outputs match the cache/.test(result.output);
}

/** What the built binary prints: the embedded message. */
async function binaryOutput(): Promise<string> {
  const result = await run(join(clone.dir, 'dist/cross', PROJECT, arch, PROJECT), []);
  return result.stdout.trim();
}

beforeAll(async () => {
  checkout = await checkoutRepository();
  clone = await checkout.clone('go-inputs');
  await write(`${MODULE}/go.mod`, 'module example.com/embedprobe\n\ngo 1.19\n');
  await write(`${MODULE}/go.sum`, '');
  await write(`${MODULE}/assets/assets.go`, 'package assets\n\nimport _ "embed"\n\n//go:embed message.txt\nvar Message string\n');
  await write(`${MODULE}/assets/message.txt`, 'first message\n');
  await write(`${MODULE}/cmd/${PROJECT}/main.go`, 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/embedprobe/assets"\n)\n\nfunc main() { fmt.Print(assets.Message) }\n');
}, 300_000);

afterAll(async () => {
  await checkout?.remove();
});

it('builds the inferred project, then replays it from the cache', async () => {
  expect(isCacheHit(await goCross())).toBe(false);
  expect(await binaryOutput()).toBe('first message');
  expect(isCacheHit(await goCross())).toBe(true);
});

it('builds again when go.sum changes', async () => {
  // A checksum line of a module nobody requires: go build accepts it, and Nx must still see the change.
  await write(`${MODULE}/go.sum`, 'golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n');
  expect(isCacheHit(await goCross())).toBe(false);
  expect(isCacheHit(await goCross())).toBe(true);
});

it('builds again when a //go:embed file outside the project changes, and the binary carries the new text', async () => {
  await write(`${MODULE}/assets/message.txt`, 'second message\n');
  expect(isCacheHit(await goCross())).toBe(false);
  expect(await binaryOutput()).toBe('second message');
});

it('stays a cache hit when only a file the binary cannot see changes', async () => {
  await write(`${MODULE}/assets/NOTES.md`, 'not embedded\n');
  expect(isCacheHit(await goCross())).toBe(true);
});

it('stays a cache hit when another main of the module changes, and follows the packages the main imports', async () => {
  await write(`${MODULE}/cmd/other/main.go`, 'package main\n\nfunc main() {}\n');
  expect(isCacheHit(await goCross())).toBe(true);
  await write(`${MODULE}/cmd/other/main.go`, 'package main\n\nfunc main() { println("changed") }\n');
  expect(isCacheHit(await goCross())).toBe(true);
  // The main starts importing a second package of the module: from then on its files are inputs too.
  await write(`${MODULE}/util/util.go`, 'package util\n\nconst Prefix = ""\n');
  await write(
    `${MODULE}/cmd/${PROJECT}/main.go`,
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/embedprobe/assets"\n\t"example.com/embedprobe/util"\n)\n\nfunc main() { fmt.Print(util.Prefix + assets.Message) }\n',
  );
  expect(isCacheHit(await goCross())).toBe(false);
  await write(`${MODULE}/util/util.go`, 'package util\n\nconst Prefix = "> "\n');
  expect(isCacheHit(await goCross())).toBe(false);
  expect(await binaryOutput()).toBe('> second message');
});

it('re-reads a project whose module gains a //go:embed line (the createNodes memo is keyed by the files it read)', async () => {
  const show = async () => {
    const result = await runNx(clone, ['show', 'project', PROJECT, '--json']);
    if (result.exitCode !== 0) throw new Error(`nx show project failed:\n${result.output}`);
    return JSON.parse(result.output.slice(result.output.indexOf('{'))) as { targets: Record<string, { inputs?: unknown[] }> };
  };
  const before = await show();
  expect(before.targets['go-cross'].inputs).toContain(`{workspaceRoot}/${MODULE}/assets/message.txt`);
  expect(before.targets['go-cross'].inputs).not.toContain(`{workspaceRoot}/${MODULE}/assets/extra.txt`);
  const memoFiles = (await readdir(join(clone.dir, '.nx', 'workspace-data'))).filter((f) => f.startsWith('nx-multiarch-nodes-'));
  expect(memoFiles).toHaveLength(1);

  await write(`${MODULE}/assets/extra.go`, 'package assets\n\nimport _ "embed"\n\n//go:embed extra.txt\nvar Extra string\n');
  await write(`${MODULE}/assets/extra.txt`, 'extra\n');
  const after = await show();
  expect(after.targets['go-cross'].inputs).toContain(`{workspaceRoot}/${MODULE}/assets/extra.txt`);
  expect(isCacheHit(await goCross())).toBe(false);
});
