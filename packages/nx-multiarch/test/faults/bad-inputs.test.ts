import { existsSync } from 'node:fs';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin, exec, nx, removeScratchClone, scratchClone, type ScratchClone } from './scratch-clone';

/**
 * Bad input across the executors and generators, through real `nx` commands
 * in a scratch clone: each must exit non-zero, print a message that names
 * the problem (and, where the plugin owns the check, a hint with the fix),
 * write nothing to dist/ and change no file of the workspace.
 *
 * Image cases use small fixture projects (committed in the clone) whose only
 * target is docker-arch-build, so no dependency task writes to dist/ first;
 * cases on the Linkerd-shaped projects pass --excludeTaskDependencies where the
 * target would otherwise build its inputs.
 */
interface BadInput {
  name: string;
  args: string[];
  /** What the output must say. */
  message: RegExp;
  /** The fix the hint must name, where the plugin (not Nx's schema check) catches it. */
  hint?: RegExp;
}

const LONG_TAG = 'v'.repeat(129);
const NO_DEPS = '--excludeTaskDependencies';

const CASES: BadInput[] = [
  // go-cross
  { name: 'go-cross: unknown arch', args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=sparc'], message: /sparc/, hint: /amd64.*arm64/s },
  { name: 'go-cross: comma list for a per-arch target', args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=amd64,arm64'], message: /one arch|single arch|comma/i, hint: /--arch=|run-many|go-cross--/ },
  { name: 'go-cross: main package that does not exist', args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=arm64', '--main=./no-such-dir'], message: /no-such-dir/ },
  // cargo-cross
  { name: 'cargo-cross: unknown arch', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=mips'], message: /mips/, hint: /amd64.*arm64/s },
  { name: 'cargo-cross: comma list', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=arm,arm64'], message: /one arch|single arch|comma/i },
  { name: 'cargo-cross: unknown libc', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=arm64', '--libc=uclibc'], message: /libc|uclibc/ },
  // docker-arch-build
  { name: 'docker-arch-build: unknown arch', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=vax'], message: /vax/, hint: /amd64.*arm64/s },
  { name: 'docker-arch-build: comma list', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=amd64,arm'], message: /one arch|single arch|comma/i },
  { name: 'docker-arch-build: missing Dockerfile', args: ['run', 'bad-no-dockerfile:docker-arch-build', '--arch=arm64'], message: /Dockerfile/, hint: /./ },
  { name: 'docker-arch-build: COPY outside the context (../)', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64'], message: /\.\.\/|outside/i, hint: /./ },
  { name: 'docker-arch-build: COPY of a symlink pointing out', args: ['run', 'bad-symlink-out:docker-arch-build', '--arch=arm64'], message: /symlink|outside|link/i, hint: /./ },
  { name: 'docker-arch-build: RUN in the native engine', args: ['run', 'bad-run-native:docker-arch-build', '--arch=arm64', '--engine=native'], message: /RUN/, hint: /docker/i },
  { name: 'docker-arch-build: COPY --from in the native engine', args: ['run', 'bad-copy-from:docker-arch-build', '--arch=arm64', '--engine=native'], message: /--from/, hint: /docker|cross/i },
  { name: 'docker-arch-build: unknown engine', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64', '--engine=podman'], message: /engine/ },
  { name: 'docker-arch-build: missing artifact', args: ['run', 'bad-missing-artifact:docker-arch-build', '--arch=arm64'], message: /does not exist|missing/i, hint: /./ },
  { name: 'docker-arch-build: package with a bad checksum', args: ['run', 'bad-checksum:docker-arch-build', '--arch=arm64'], message: /checksum|sha256/i },
  { name: 'docker-arch-build: FROM an OCI layout that does not exist', args: ['run', 'bad-from-layout:docker-arch-build', '--arch=arm64'], message: /no-such-layout/ },
  { name: 'docker-arch-build: bad sourceDateEpoch', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64', '--sourceDateEpoch=yesterday'], message: /sourceDateEpoch|SOURCE_DATE_EPOCH|yesterday/ },
  { name: 'docker-arch-build: malformed artifacts option', args: ['run', 'bad-artifacts-shape:docker-arch-build', '--arch=arm64'], message: /artifacts\[0\]/, hint: /"from"/ },
  // manifest-push
  { name: 'manifest-push: malformed registry', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=http//no such host', NO_DEPS], message: /registry|no such host/i },
  { name: 'manifest-push: tag over 128 characters', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', `--tags=${LONG_TAG}`, NO_DEPS], message: /128/ },
  { name: 'manifest-push: unknown arch in arches', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--arches=amd64,sparc', NO_DEPS], message: /sparc/ },
  { name: 'manifest-push: missing layout', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', NO_DEPS], message: /dist\/images\/linkerd2-proxy-init|layout|image/i, hint: /docker-arch-build/ },
  { name: 'manifest-push: bad mediaType', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--mediaType=helm', NO_DEPS], message: /mediaType/ },
  { name: 'manifest-push: malformed repository', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--repository=Upper/Case!', NO_DEPS], message: /Upper\/Case!|repository/i },
  // arch-integration
  // (Its `runner` option cannot be given on the command line: Nx takes --runner as its own tasks-runner flag.)
  { name: 'arch-integration: image not built', args: ['run', 'linkerd2-proxy-init:arch-integration', '--arch=arm64', NO_DEPS], message: /image|layout/i, hint: /docker-arch-build/ },
  { name: 'arch-integration: unknown arch', args: ['run', 'linkerd2-proxy-init:arch-integration', '--arch=z80', NO_DEPS], message: /z80/ },
  // generators
  { name: 'init generator: unknown arch', args: ['g', 'nx-multiarch:init', '--arches=amd64,sparc'], message: /sparc/ },
  { name: 'init generator: unknown engine', args: ['g', 'nx-multiarch:init', '--engine=podman'], message: /engine/ },
  { name: 'init generator: malformed registry', args: ['g', 'nx-multiarch:init', '--registry=not a registry'], message: /registry/i },
  { name: 'import-repo generator: source that does not exist', args: ['g', 'nx-multiarch:import-repo', '--source=no/such/repo'], message: /no\/such\/repo/ },
  { name: 'import-repo generator: bad project name', args: ['g', 'nx-multiarch:import-repo', '--source=packages/linkerd2-proxy-init', '--name=bad name!'], message: /name/ },
];

/** Fixture projects: each one Dockerfile problem, its only target docker-arch-build. */
async function writeFixtures(dir: string): Promise<void> {
  const root = join(dir, 'packages', 'bad-inputs');
  const project = async (name: string, files: Record<string, string>, options: Record<string, unknown> = {}) => {
    await mkdir(join(root, name), { recursive: true });
    const config = {
      name,
      root: `packages/bad-inputs/${name}`,
      targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options } },
    };
    await writeFile(join(root, name, 'project.json'), `${JSON.stringify(config, null, 2)}\n`);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(root, name, file, '..'), { recursive: true });
      await writeFile(join(root, name, file), text);
    }
  };
  await writeFile(join(root, '..', 'bad-inputs-secret.txt'), 'outside the context\n').catch(async () => {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, '..', 'bad-inputs-secret.txt'), 'outside the context\n');
  });
  await project('bad-no-dockerfile', { 'README.md': 'no Dockerfile here\n' }, { dockerfile: 'packages/bad-inputs/bad-no-dockerfile/Dockerfile.missing' });
  await project('bad-copy-outside', { Dockerfile: 'FROM scratch\nCOPY ../../bad-inputs-secret.txt /secret\n' });
  await project('bad-symlink-out', { Dockerfile: 'FROM scratch\nCOPY link.txt /secret\n' });
  await symlink('../../bad-inputs-secret.txt', join(root, 'bad-symlink-out', 'link.txt'));
  await project('bad-run-native', { Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\nRUN echo hello > /b.txt\n', 'a.txt': 'a\n' });
  await project('bad-copy-from', { Dockerfile: 'FROM scratch AS build\nCOPY a.txt /a.txt\nFROM scratch\nCOPY --from=build /a.txt /a.txt\n', 'a.txt': 'a\n' });
  await project('bad-missing-artifact', { Dockerfile: 'FROM scratch\nCOPY bin/tool /tool\n' }, { artifacts: [{ from: 'dist/cross/no-such-project/{arch}/tool', to: 'bin' }] });
  await project('bad-from-layout', { Dockerfile: 'FROM oci-layout://no-such-layout\nCOPY a.txt /a.txt\n', 'a.txt': 'a\n' });
  await project('bad-artifacts-shape', { Dockerfile: 'FROM scratch\nCOPY bin/tool /tool\n' }, { artifacts: [{ to: 'bin' }] });
  // A Linkerd-style package whose checksum file does not match the tarball.
  const pkgName = 'tool-v1.0.0-linux-arm64';
  const pkgDir = join(root, 'bad-checksum', 'pkg', 'arm64');
  await project('bad-checksum', { Dockerfile: 'FROM scratch\nCOPY bin/tool /tool\n' }, { artifacts: [{ package: 'packages/bad-inputs/bad-checksum/pkg/{arch}', to: 'bin' }] });
  await mkdir(join(pkgDir, pkgName), { recursive: true });
  await writeFile(join(pkgDir, pkgName, 'tool'), 'not really a binary\n');
  const tar = await exec('tar', ['czf', `${pkgName}.tar.gz`, pkgName], pkgDir);
  if (tar.code !== 0) throw new Error(tar.output);
  await rm(join(pkgDir, pkgName), { recursive: true });
  await writeFile(join(pkgDir, `${pkgName}.txt`), `${'0'.repeat(64)}  ${pkgName}.tar.gz\n`);
}

let clone: ScratchClone | undefined;

beforeAll(async () => {
  await buildPlugin();
  clone = await scratchClone('bad-inputs');
  await writeFixtures(clone.dir);
  for (const args of [['add', '-A'], ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'bad input fixtures']]) {
    const result = await exec('git', args, clone.dir);
    if (result.code !== 0) throw new Error(result.output);
  }
}, 120_000);

afterAll(() => removeScratchClone(clone));

test('there are at least 20 bad inputs', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(20);
});

test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
  const dir = clone!.dir;
  await rm(join(dir, 'dist'), { recursive: true, force: true });
  const result = await nx(clone!, c.args, {}, 120_000);
  // BAD_INPUTS_LOG=<file> keeps every message, to read them as a user would.
  if (process.env.BAD_INPUTS_LOG) await appendFile(process.env.BAD_INPUTS_LOG, `\n=== ${c.name} (exit ${result.code})\n${result.output}`);
  expect(result.code).not.toBe(0);
  expect(result.output).toMatch(c.message);
  if (c.hint) {
    const hint = /hint: (.*)/.exec(result.output);
    expect(hint).not.toBeNull();
    expect(hint![1]).toMatch(c.hint);
  }
  // No stack trace for bad input: the message is the whole story.
  expect(result.output).not.toMatch(/^\s+at .*\(.*\.[jt]s:\d+:\d+\)$/m);
  // No file and no arch folder (dist/<kind>/<project>/<arch>); the atomic writer may leave the empty project folder it writes beside.
  const written = existsSync(join(dir, 'dist')) ? (await exec('find', ['dist', '-mindepth', '3'], dir)).output : '';
  expect(written).toBe('');
  const status = await exec('git', ['status', '--porcelain'], dir);
  expect(status.output).toBe('');
}, 150_000);
