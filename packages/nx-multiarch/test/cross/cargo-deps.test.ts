import type { ExecutorContext } from '@nx/devkit';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cargoCrossExecutor from '../../src/executors/cargo-cross/executor';
import type { CargoCrossOptions } from '../../src/cross/cargo-plan';
import { PLATFORMS } from '../../src/platform/platforms';
import { run, which } from '../../src/util/exec';
import { outputDir } from '../../src/outputs/paths';
import { cleanUpTemp, FIXTURES, listDir, pathWithOnly, runUnderQemu, workspaceWith } from './helpers';

/**
 * cargo-cross with real crates and real cargo: a build-script crate (cc-rs)
 * compiling C for the target, crates fetched once with --locked and built
 * --offline, and the rust-toolchain.toml pin. Every failure is what a user
 * would read (the executor's printed problem and fix), `success: false`
 * (Nx exits non-zero), and nothing in dist/.
 */
jest.setTimeout(600_000);
afterAll(cleanUpTemp);

const CDEP = join(FIXTURES, 'rust-cdep');
const HELLO = join(FIXTURES, 'rust-hello');

function contextFor(root: string, project: string, projectRoot: string): ExecutorContext {
  const context: Partial<ExecutorContext> = {
    root,
    cwd: root,
    projectName: project,
    targetName: 'cargo-cross',
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: { [project]: { root: projectRoot } } },
  };
  return context as ExecutorContext;
}

interface Outcome {
  success: boolean;
  /** What the executor printed as the error (problem and hint). */
  printed: string;
  /** Everything under dist/ of the workspace. */
  dist: string[];
}

/** Runs the executor as Nx does, with `env` as the process environment for the run. */
async function runCargoCross(root: string, project: string, projectRoot: string, options: CargoCrossOptions, env?: NodeJS.ProcessEnv): Promise<Outcome> {
  const printed: string[] = [];
  const spies = [
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' '))),
    jest.spyOn(console, 'log').mockImplementation(() => undefined),
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true),
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true),
  ];
  const saved = process.env;
  if (env) process.env = env;
  try {
    const result = await cargoCrossExecutor(options, contextFor(root, project, projectRoot));
    return { success: result.success, printed: printed.join('\n'), dist: listDir(join(root, 'dist')) };
  } finally {
    process.env = saved;
    spies.forEach((spy) => spy.mockRestore());
  }
}

function pin(root: string, projectRoot: string, channel: string): void {
  writeFileSync(join(root, projectRoot, 'rust-toolchain.toml'), `[toolchain]\nchannel = "${channel}"\n`);
}

describe('cargo-cross with a C-compiling dependency', () => {
  it('compiles the C part with the cross gcc for arm/v7, fetched once and built --offline; the binary runs under qemu', async () => {
    const { root, projectRoot } = workspaceWith(CDEP, 'rust-cdep');
    const outcome = await runCargoCross(root, 'rust-cdep', projectRoot, { arch: 'arm' });
    expect(outcome).toMatchObject({ success: true });
    const out = outputDir(root, 'cross', 'rust-cdep', 'arm');
    // 32-bit pointers, little-endian: the C code was compiled for armv7, not for the host.
    expect(await runUnderQemu(PLATFORMS.arm, join(out, 'rust-cdep'), [])).toBe('rust-cdep arm 3204');
    // The prefix maps reached gcc too: no checkout path in the binary.
    expect(readFileSync(join(out, 'rust-cdep')).includes(Buffer.from(root))).toBe(false);
  });

  it('names CC_<triple> when it points at a C compiler that is not installed', async () => {
    const { root, projectRoot } = workspaceWith(CDEP, 'rust-cdep');
    const env = { ...process.env, CC_aarch64_unknown_linux_gnu: 'aarch64-linux-gnu-gcc-404' };
    const outcome = await runCargoCross(root, 'rust-cdep', projectRoot, { arch: 'arm64' }, env);
    expect(outcome.success).toBe(false);
    expect(outcome.printed).toContain('A dependency compiles C for aarch64-unknown-linux-gnu (the cc crate is in');
    expect(outcome.printed).toContain('its C compiler aarch64-linux-gnu-gcc-404 is not on PATH (from CC_aarch64_unknown_linux_gnu)');
    expect(outcome.dist).toEqual([]);
  });

  it('names the Debian package when the cross gcc is not on PATH (the linker given by path)', async () => {
    const { root, projectRoot } = workspaceWith(CDEP, 'rust-cdep');
    const gcc = which('s390x-linux-gnu-gcc') as string;
    // The linker is found by its absolute path, but build scripts look for s390x-linux-gnu-gcc on PATH.
    const env = pathWithOnly({ 's390x-linux-gnu-strip': which('s390x-linux-gnu-strip') as string });
    const outcome = await runCargoCross(root, 'rust-cdep', projectRoot, { arch: 's390x', linker: gcc }, env);
    expect(outcome.success).toBe(false);
    expect(outcome.printed).toContain('its C compiler s390x-linux-gnu-gcc is not on PATH');
    expect(outcome.printed).toContain('apt-get install gcc-s390x-linux-gnu libc6-dev-s390x-cross');
    expect(outcome.dist).toEqual([]);
  });
});

describe('cargo-cross lockfile and toolchain pin errors leave nothing in dist', () => {
  it('refuses a Cargo.lock that disagrees with Cargo.toml under --locked, naming the fix', async () => {
    const { root, projectRoot } = workspaceWith(HELLO, 'rust-hello');
    const manifest = join(root, projectRoot, 'Cargo.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('version = "0.3.1"', 'version = "0.3.2"'));
    const outcome = await runCargoCross(root, 'rust-hello', projectRoot, { arch: 'arm64' });
    expect(outcome.success).toBe(false);
    expect(outcome.printed).toContain(`${join(root, projectRoot, 'Cargo.lock')} does not match ${manifest}`);
    expect(outcome.printed).toContain('cargo update --workspace');
    expect(outcome.dist).toEqual([]);
    // Nothing rewrote the lockfile behind the user's back.
    expect(readFileSync(join(root, projectRoot, 'Cargo.lock'), 'utf8')).toContain('version = "0.3.1"');
  });

  it('names a pin no installed toolchain meets, what is installed, and the commands that fix it', async () => {
    const { root, projectRoot } = workspaceWith(HELLO, 'rust-hello');
    pin(root, projectRoot, '1.90.0');
    const outcome = await runCargoCross(root, 'rust-hello', projectRoot, { arch: 'arm64' });
    expect(outcome.success).toBe(false);
    expect(outcome.printed).toContain(`packages/rust-hello/rust-toolchain.toml pins Rust "1.90.0", and no installed toolchain is that release.`);
    expect(outcome.printed).toMatch(/Installed: Debian's rustc 1\.\d+\.\d+ \(\/usr\/bin\)/);
    expect(outcome.printed).toContain('rustup toolchain install 1.90.0 --target aarch64-unknown-linux-gnu');
    expect(outcome.printed).toMatch(/or pin Debian's release \(channel = "1\.\d+\.\d+"/);
    expect(outcome.dist).toEqual([]);
  });

  it('names the missing target std of the toolchain the pin chose (rustup, host std only)', async () => {
    const stable = await run('rustup', ['run', 'stable', 'rustc', '-V']);
    const release = /^rustc (\d+\.\d+)\./.exec(stable.stdout)?.[1];
    expect(release).toBeDefined(); // polyglot machines have rustup's stable
    const { root, projectRoot } = workspaceWith(HELLO, 'rust-hello');
    pin(root, projectRoot, release as string);
    const outcome = await runCargoCross(root, 'rust-hello', projectRoot, { arch: 'arm64' });
    expect(outcome.success).toBe(false);
    expect(outcome.printed).toContain(`pins Rust "${release}", met by rustup`);
    expect(outcome.printed).toContain('which has no std for aarch64-unknown-linux-gnu');
    expect(outcome.printed).toMatch(/rustup target add aarch64-unknown-linux-gnu --toolchain \S+/);
    expect(outcome.dist).toEqual([]);
  });

  it('builds when the pin is Debian’s release, even where rustup’s proxy could not meet it', async () => {
    const debian = await run('/usr/bin/rustc', ['-V']);
    const release = /^rustc (\d+\.\d+\.\d+)/.exec(debian.stdout)?.[1] as string;
    const { root, projectRoot } = workspaceWith(HELLO, 'rust-hello');
    pin(root, projectRoot, release);
    const outcome = await runCargoCross(root, 'rust-hello', projectRoot, { arch: 'arm64', package: false, bins: ['rust-hello'] });
    expect(outcome).toMatchObject({ success: true });
    expect(listDir(outputDir(root, 'cross', 'rust-hello', 'arm64'))).toEqual(['rust-hello']);
  });
});
