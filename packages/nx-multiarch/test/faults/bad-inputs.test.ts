import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin, exec, nx, removeScratchClone, scratchClone, type ScratchClone } from './scratch-clone';

/**
 * Bad input across the executors and generators, through real `nx` commands
 * in a scratch clone: each must exit non-zero, print the plugin's own error
 * (the message and hint lines its error formatter writes, matched exactly,
 * each a whole line), write nothing to dist/ and change no file of the
 * workspace. Nx echoes the command (`> nx run <project>:<target> <args>`), so a
 * pattern that also matches the arguments proves nothing; whole lines do.
 * Inputs that Nx's schema validation refuses before the plugin runs are in
 * the last block, which tests that validation (the schemas are the plugin's).
 *
 * Image cases use small fixture projects (committed in the clone) whose only
 * target is docker-arch-build, so no dependency task writes to dist/ first;
 * cases on the Linkerd-shaped projects pass --excludeTaskDependencies where the
 * target would otherwise build its inputs.
 */
interface BadInput {
  name: string;
  args: string[];
  /**
   * The lines the plugin prints, exactly and in this order: the message
   * line(s), then "  hint: …". `<ws>` stands for the clone's folder,
   * `<tarball-sha256>` for the hash of the bad-checksum fixture's tarball.
   */
  lines: string[];
}

const LONG_TAG = 'v'.repeat(129);
const NO_DEPS = '--excludeTaskDependencies';
const ARCH_HINT = '  hint: Use one of: amd64, arm64, arm, ppc64le, s390x, riscv64 (also accepted: x86_64, aarch64, arm/v7, linux/arm/v7, armv7, armhf, ppc64el).';
const unsupported = (arch: string) => [`Unsupported arch "${arch}".`, ARCH_HINT];
const perArch = (target: string, args: string, first: string) => [
  `${target} builds one arch per task, but --arch=${args} names 2.`,
  `  hint: Run it once per arch (nx run-many -t ${target} --arch=${first}), or use the per-arch targets ${target}--<arch>.`,
];
const REPO_HINT = '  hint: Use lower-case letters and digits, separated by ".", "_", "__" or "-", with "/" between path components.';
const NATIVE_HINT =
  '  hint: Restructure: do that work in a FROM --platform=$BUILDPLATFORM stage with go build/cargo build (mapped to go-cross/cargo-cross) and COPY --from its output; or opt in to emulation: allowEmulation: true (engine "auto" then uses docker), or engine "docker".';
const WAYS_OUT =
  '  hint: Either restructure: do that work in a FROM --platform=$BUILDPLATFORM stage with go build/cargo build (the plugin maps them to go-cross/cargo-cross) and COPY --from its output; or opt in to emulation: allowEmulation: true on the docker-arch-build target (engine "auto" then uses docker for it), or engine "docker".';
const FIX_LINES =
  "  hint: Fix those lines: a build stage's go build needs GOARCH=$TARGETARCH and -o <path>, a cargo build --release --target <triple for $TARGETARCH>, and COPY --from names what a stage produces.";
/** A build stage in Linkerd's shape, compiling ./cmd/app (line 5); the final stage's COPY --from is line 7. */
const goStage = (build: string, copy: string) =>
  `FROM --platform=$BUILDPLATFORM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nARG TARGETOS TARGETARCH\nRUN ${build}\nFROM scratch\n${copy}\n`;
const building = (name: string, why = 'auto: every stage is understood without running it') =>
  `${name}: building packages/bad-inputs/${name}/Dockerfile for linux/arm64 with the native engine (${why})`;
const CHECKSUM_PKG = 'packages/bad-inputs/bad-checksum/pkg/arm64/tool-v1.0.0-linux-arm64';

const CASES: BadInput[] = [
  // go-cross
  { name: 'go-cross: unknown arch', args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=sparc'], lines: unsupported('sparc') },
  { name: 'go-cross: comma list for a per-arch target', args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=amd64,arm64'], lines: perArch('go-cross', 'amd64,arm64', 'amd64') },
  {
    name: 'go-cross: main package that does not exist',
    args: ['run', 'linkerd2-proxy-init:go-cross', '--arch=arm64', '--main=./no-such-dir'],
    lines: [
      'go list ./no-such-dir failed with exit code 1:',
      'stat <ws>/packages/linkerd2-proxy-init/no-such-dir: directory not found',
      '  hint: Set the go-cross option "main" to main packages of the module, relative to "cwd" (e.g. ./cmd/controller).',
    ],
  },
  // cargo-cross
  { name: 'cargo-cross: unknown arch', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=mips'], lines: unsupported('mips') },
  { name: 'cargo-cross: comma list', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=arm,arm64'], lines: perArch('cargo-cross', 'arm,arm64', 'arm') },
  // docker-arch-build
  { name: 'docker-arch-build: unknown arch', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=vax'], lines: unsupported('vax') },
  { name: 'docker-arch-build: comma list', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=amd64,arm'], lines: perArch('docker-arch-build', 'amd64,arm', 'amd64') },
  {
    name: 'docker-arch-build: missing Dockerfile',
    args: ['run', 'bad-no-dockerfile:docker-arch-build', '--arch=arm64'],
    lines: [
      'Dockerfile not found: packages/bad-inputs/bad-no-dockerfile/Dockerfile.missing (project bad-no-dockerfile).',
      "  hint: Create packages/bad-inputs/bad-no-dockerfile/Dockerfile.missing, or set the dockerfile option of bad-no-dockerfile's docker-arch-build target.",
    ],
  },
  {
    name: 'docker-arch-build: COPY outside the context (../)',
    args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64'],
    lines: [
      building('bad-copy-outside'),
      'COPY on line 2: source "../../bad-inputs-secret.txt" is outside the build context.',
      '  hint: COPY and ADD read only from the build context: stage the file into it (artifacts option) or widen the context option.',
    ],
  },
  {
    name: 'docker-arch-build: COPY of a symlink pointing out',
    args: ['run', 'bad-symlink-out:docker-arch-build', '--arch=arm64'],
    lines: [
      building('bad-symlink-out'),
      'COPY on line 2: source "link.txt" is a symlink to ../../bad-inputs-secret.txt pointing outside the build context.',
      '  hint: COPY does not follow symlinks out of the context: copy the file itself into the context (artifacts option) instead of linking to it.',
    ],
  },
  {
    name: 'docker-arch-build: RUN in the native engine',
    args: ['run', 'bad-run-native:docker-arch-build', '--arch=arm64', '--engine=native'],
    lines: [
      building('bad-run-native', 'engine native was asked for'),
      'The native engine cannot build packages/bad-inputs/bad-run-native/Dockerfile:',
      '  line 3: RUN: RUN in a stage of the target platform runs target code (a container of the target arch, i.e. emulation for a foreign arch), and this command is not an idiom the plugin applies without running it: a redirection',
      NATIVE_HINT,
    ],
  },
  {
    name: 'docker-arch-build: a stage whose RUN needs the target platform (auto never emulates unasked)',
    args: ['run', 'bad-run-target:docker-arch-build', '--arch=arm64'],
    lines: [
      'packages/bad-inputs/bad-run-target/Dockerfile cannot be built for arm64 without emulation, and engine "auto" never emulates unasked:',
      '  line 2: RUN: stage tools: RUN in a stage without FROM --platform=$BUILDPLATFORM runs on the target platform (emulation for a foreign arch); build on $BUILDPLATFORM and cross-compile instead',
      '  line 4: COPY: COPY --from=tools copies out of another stage or image, and no compile step of a build stage was resolved for it',
      WAYS_OUT,
    ],
  },
  {
    name: 'docker-arch-build: COPY --from of a path no stage produces',
    args: ['run', 'bad-copy-from:docker-arch-build', '--arch=arm64'],
    lines: [
      'packages/bad-inputs/bad-copy-from/Dockerfile cannot be built for arm64:',
      '  line 7: COPY: COPY --from=build /out/other: no step of stage build produces /out/other; it produces /out/app (go build of cmd/app (line 5))',
      FIX_LINES,
    ],
  },
  {
    name: 'docker-arch-build: a go build whose output name cannot be determined',
    args: ['run', 'bad-go-output:docker-arch-build', '--arch=arm64'],
    lines: [
      'packages/bad-inputs/bad-go-output/Dockerfile cannot be built for arm64:',
      '  line 5: RUN: stage build: the output name of go build cannot be determined (no -o, and the binary would be named after the module path); write -o <path>',
      FIX_LINES,
    ],
  },
  {
    name: 'docker-arch-build: missing artifact',
    args: ['run', 'bad-missing-artifact:docker-arch-build', '--arch=arm64'],
    lines: [
      building('bad-missing-artifact'),
      'Artifact dist/cross/no-such-project/arm64/tool does not exist (needed for --arch=arm64).',
      '  hint: Build it first: nx run no-such-project:go-cross --arch=arm64 (or cargo-cross). Declaring a dependency on no-such-project makes docker-arch-build do that itself.',
    ],
  },
  {
    name: 'docker-arch-build: package with a bad checksum',
    args: ['run', 'bad-checksum:docker-arch-build', '--arch=arm64'],
    lines: [
      building('bad-checksum'),
      `Package ${CHECKSUM_PKG}.tar.gz does not match its checksum: ${CHECKSUM_PKG}.txt says ${'0'.repeat(64)}, the file hashes to <tarball-sha256>.`,
      '  hint: The package is damaged or stale; rebuild it: Build it first, so that packages/bad-inputs/bad-checksum/pkg/arm64 exists.',
    ],
  },
  {
    name: 'docker-arch-build: FROM an OCI layout that does not exist',
    args: ['run', 'bad-from-layout:docker-arch-build', '--arch=arm64'],
    lines: [
      building('bad-from-layout'),
      'FROM oci-layout://no-such-layout: no OCI image layout (index.json) at no-such-layout, looked in <ws>/packages/bad-inputs/bad-from-layout/no-such-layout and <ws>/no-such-layout.',
      '  hint: Build or copy the base layout there first (e.g. nx run <base project>:docker-arch-build), or fix the path: relative to the build context, else to the workspace root.',
    ],
  },
  {
    name: 'docker-arch-build: bad sourceDateEpoch',
    args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64', '--sourceDateEpoch=yesterday'],
    lines: ['sourceDateEpoch "yesterday" is not a whole number of seconds.', '  hint: Give seconds since 1970, e.g. 1700000000.'],
  },
  {
    name: 'docker-arch-build: malformed artifacts option',
    args: ['run', 'bad-artifacts-shape:docker-arch-build', '--arch=arm64'],
    lines: [
      'artifacts[0] needs "to" and exactly one of "from" or "package" (strings).',
      '  hint: Write artifacts as [{ "from": "dist/cross/<project>/{arch}", "to": "bin" }] or [{ "package": "dist/cross/<project>/{arch}", "to": "bin" }].',
    ],
  },
  // manifest-push
  {
    name: 'manifest-push: malformed registry',
    args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=http//no such host', NO_DEPS],
    lines: ['Invalid repository prefix in registry "http//no such host": Invalid repository name "/no such host": "" is not a valid path component.', REPO_HINT],
  },
  {
    name: 'manifest-push: tag over 128 characters',
    args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', `--tags=${LONG_TAG}`, NO_DEPS],
    lines: [`Tag "${'v'.repeat(40)}…" is 129 characters long; registries accept at most 128.`, '  hint: Shorten the tag (letters, digits, _ . -, not starting with . or -).'],
  },
  { name: 'manifest-push: unknown arch in arches', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--arches=amd64,sparc', NO_DEPS], lines: unsupported('sparc') },
  {
    name: 'manifest-push: missing layout',
    args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', NO_DEPS],
    lines: [
      '3 images of linkerd2-proxy-init cannot be pushed:',
      ...['amd64', 'arm64', 'arm'].map((arch) => `  - No ${arch} image of linkerd2-proxy-init: no OCI image layout at dist/images/linkerd2-proxy-init/${arch}.`),
      '  hint: Build them first: nx run linkerd2-proxy-init:docker-arch-build --arch=amd64; nx run linkerd2-proxy-init:docker-arch-build --arch=arm64; nx run linkerd2-proxy-init:docker-arch-build --arch=arm (or run nx run linkerd2-proxy-init:manifest-push, which depends on the per-arch builds).',
    ],
  },
  {
    name: 'manifest-push: malformed repository',
    args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--repository=Upper/Case!', NO_DEPS],
    lines: ['Invalid repository name "Upper/Case!": "Upper" is not a valid path component.', REPO_HINT],
  },
  // arch-integration
  // (Its `runner` option cannot be given on the command line: Nx takes --runner as its own tasks-runner flag.)
  {
    name: 'arch-integration: image not built',
    args: ['run', 'linkerd2-proxy-init:arch-integration', '--arch=arm64', NO_DEPS],
    lines: [
      'No image of linkerd2-proxy-init for arm64 at <ws>/dist/images/linkerd2-proxy-init/arm64.',
      '  hint: Build it first: nx run linkerd2-proxy-init:docker-arch-build --arch=arm64 (the arch-integration target depends on it).',
    ],
  },
  { name: 'arch-integration: unknown arch', args: ['run', 'linkerd2-proxy-init:arch-integration', '--arch=z80', NO_DEPS], lines: unsupported('z80') },
  // generators (Nx prints a generator's error as its title: " NX   <message>")
  { name: 'init generator: unknown arch', args: ['g', 'nx-multiarch:init', '--arches=amd64,sparc'], lines: unsupported('sparc') },
  {
    name: 'init generator: malformed registry',
    args: ['g', 'nx-multiarch:init', '--registry=not a registry'],
    lines: ['Invalid registry host "not a registry".', '  hint: Give host[:port], e.g. 127.0.0.1:5000 or registry.example.com.'],
  },
  {
    name: 'import-repo generator: source that does not exist',
    args: ['g', 'nx-multiarch:import-repo', '--source=no/such/repo'],
    lines: ['The source folder no/such/repo does not exist in the workspace.', '  hint: Check the path (it is relative to the workspace root), or copy the repository there first.'],
  },
];

/** Inputs the plugin's schemas refuse through Nx's own validation, before any plugin code runs: Nx's line, exactly. */
const SCHEMA_CASES: { name: string; args: string[]; line: string }[] = [
  { name: 'cargo-cross: unknown libc', args: ['run', 'linkerd2-proxy:cargo-cross', '--arch=arm64', '--libc=uclibc'], line: "Property 'libc' does not match the schema. 'uclibc' should be one of gnu,musl." },
  { name: 'docker-arch-build: unknown engine', args: ['run', 'bad-copy-outside:docker-arch-build', '--arch=arm64', '--engine=podman'], line: "Property 'engine' does not match the schema. 'podman' should be one of native,docker,auto." },
  { name: 'manifest-push: bad mediaType', args: ['run', 'linkerd2-proxy-init:manifest-push', '--registry=127.0.0.1:9', '--mediaType=helm', NO_DEPS], line: "Property 'mediaType' does not match the schema. 'helm' should be one of oci,docker." },
  { name: 'init generator: unknown engine', args: ['g', 'nx-multiarch:init', '--engine=podman'], line: "Property 'engine' does not match the schema. 'podman' should be one of native,docker,auto." },
  {
    name: 'import-repo generator: bad project name',
    args: ['g', 'nx-multiarch:import-repo', '--source=packages/linkerd2-proxy-init', '--name=bad name!'],
    line: "Property 'name' does not match the schema. 'bad name!' should match the pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'.",
  },
];

/**
 * The output as lines: colours removed, trailing blanks trimmed, blank lines
 * dropped, and Nx's title prefix (" NX   ") taken off, since Nx prints a
 * generator's error (and a schema error) as a title, a blank line before the hint.
 */
function outputLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\n')
    .map((line) => line.trimEnd().replace(/^ NX {2,3}/, ''))
    .filter((line) => line !== '');
}

/** The expected lines not found as one consecutive block of whole lines (all of them when the block is absent). */
function missingBlock(lines: readonly string[], expected: readonly string[]): string[] {
  for (let i = 0; i + expected.length <= lines.length; i++) {
    if (expected.every((line, j) => lines[i + j] === line)) return [];
  }
  const absent = expected.filter((line) => !lines.includes(line));
  return absent.length > 0 ? absent : [`not in this order: ${expected.join(' / ')}`];
}

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
  await project('bad-run-target', { Dockerfile: 'FROM alpine:3.20 AS tools\nRUN apk add --no-cache curl\nFROM scratch\nCOPY --from=tools /usr/bin/curl /usr/bin/curl\n' });
  await project('bad-copy-from', {
    Dockerfile: goStage('CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app', 'COPY --from=build /out/other /other'),
  });
  await project('bad-go-output', { Dockerfile: goStage('GOOS=$TARGETOS GOARCH=$TARGETARCH go build .', 'COPY --from=build /src/app /app') });
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
/** The bad-checksum fixture's tarball hash (tar and gzip stamp times, so it differs per run). */
let tarballSha256 = '';

beforeAll(async () => {
  await buildPlugin();
  clone = await scratchClone('bad-inputs');
  await writeFixtures(clone.dir);
  tarballSha256 = createHash('sha256')
    .update(await readFile(join(clone.dir, `${CHECKSUM_PKG}.tar.gz`)))
    .digest('hex');
  for (const args of [['add', '-A'], ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'bad input fixtures']]) {
    const result = await exec('git', args, clone.dir);
    if (result.code !== 0) throw new Error(result.output);
  }
}, 120_000);

afterAll(() => removeScratchClone(clone));

test('there are at least 20 bad inputs the plugin itself catches', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(20);
});

/** Nothing in dist/ (no file and no arch folder) and no change to the workspace's files. */
async function expectNothingWritten(dir: string): Promise<void> {
  // The atomic writer may leave the empty project folder it writes beside.
  const written = existsSync(join(dir, 'dist')) ? (await exec('find', ['dist', '-mindepth', '3'], dir)).output : '';
  expect(written).toBe('');
  const status = await exec('git', ['status', '--porcelain'], dir);
  expect(status.output).toBe('');
}

async function runCase(name: string, args: string[]): Promise<{ code: number; output: string }> {
  await rm(join(clone!.dir, 'dist'), { recursive: true, force: true });
  const result = await nx(clone!, args, {}, 120_000);
  // BAD_INPUTS_LOG=<file> keeps every message, to read them as a user would.
  if (process.env.BAD_INPUTS_LOG) await appendFile(process.env.BAD_INPUTS_LOG, `\n=== ${name} (exit ${result.code})\n${result.output}`);
  return result;
}

test.each(CASES.map((c) => [c.name, c] as const))('%s', async (name, c) => {
  const result = await runCase(name, c.args);
  expect(result.code).not.toBe(0);
  const expected = c.lines.map((line) => line.split('<ws>').join(clone!.dir).split('<tarball-sha256>').join(tarballSha256));
  const lines = outputLines(result.output);
  expect(missingBlock(lines, expected)).toEqual([]);
  expect(expected[expected.length - 1]).toMatch(/^ {2}hint: /);
  // Negative controls, on this very output: the check fails when the plugin's message line is gone,
  // and Nx's echo of the command alone (which repeats every argument) does not satisfy it.
  expect(missingBlock(lines.filter((line) => line !== expected[0]), expected)).not.toEqual([]);
  expect(missingBlock(lines.filter((line) => /^> nx run /.test(line)), expected)).not.toEqual([]);
  // No stack trace for bad input: the message is the whole story.
  expect(result.output).not.toMatch(/^\s+at .*\(.*\.[jt]s:\d+:\d+\)$/m);
  await expectNothingWritten(clone!.dir);
}, 150_000);

describe("Nx's schema validation of the plugin's options (refused before any plugin code runs)", () => {
  test.each(SCHEMA_CASES.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const result = await runCase(name, c.args);
    expect(result.code).not.toBe(0);
    expect(missingBlock(outputLines(result.output), [c.line])).toEqual([]);
    await expectNothingWritten(clone!.dir);
  }, 150_000);
});
