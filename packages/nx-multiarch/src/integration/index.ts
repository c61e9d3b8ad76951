/**
 * The test API of nx-multiarch: what a project's `*.arch.test.ts` files use
 * to start the image under test (or another image, or a per-arch binary),
 * wait until it is ready, reach it on loopback ports, read its logs and stop
 * it. Tests import it as `nx-multiarch/integration`; the arch-integration
 * executor maps that name to this module and passes the arch, runner and
 * image folders through the environment (see env.ts).
 *
 *   const ctx = testContext();                       // arch, platform, runner
 *   const port = await freePort();
 *   const web = await startImage({ env: { PORT: String(port) } });
 *   await web.waitForHttp(port, '/ready');
 *   expect((await httpGet(web.url(port, '/api'))).status).toBe(200);
 *   await web.stop();
 */
import { PLATFORMS } from '../platform/platforms';
import { MultiarchError } from '../errors';
import { findCrossBinary, findImageDir } from '../outputs/find-artifacts';
import { binaryImageLayout } from './binary-image';
import { installExitHooks, stopAllProcesses } from './child-process';
import { decodeTestContext, type TestContext } from './env';
import { freePort } from './free-port';
import { resolveImage } from './image-ref';
import { processSpec } from './process-spec';
import { DockerRunner } from './runners/docker';
import { QemuRunner } from './runners/qemu';
import type { ExitStatus, ProcessOverrides, ResolvedImage, Runner, RunningProcess } from './types';
import { DEFAULT_READY_TIMEOUT_MS, describeExit, httpGet, waitForExit, waitForHttp, waitForPort, type HttpAnswer, type HttpWaitOptions, type WaitOptions } from './wait';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort, httpGet };
export type { ExitStatus, HttpAnswer, HttpWaitOptions, TestContext, WaitOptions };

export interface StartOptions extends ProcessOverrides {
  /** Which image: a name from the target's `images` option, or an image folder; default the project's own image. */
  image?: string;
  /** Another project's image for the arch under test (dist/images/<project>/<arch>/), e.g. the controller for the dashboard. */
  project?: string;
  /** A name for messages; default the image name. */
  name?: string;
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** A process of an image (or binary) under test. */
export class ImageProcess {
  constructor(
    private readonly proc: RunningProcess,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Where its listeners are: 127.0.0.1, or the remote engine's host. */
  get host(): string {
    return this.proc.host;
  }

  get description(): string {
    return this.proc.description;
  }

  /** Resolves with the exit status once it ends. */
  get exited(): Promise<ExitStatus> {
    return this.proc.exited;
  }

  hasExited(): boolean {
    return this.proc.hasExited();
  }

  stdout(): string {
    return this.proc.stdout();
  }

  stderr(): string {
    return this.proc.stderr();
  }

  /** `http://<host>:<port><path>` */
  url(port: number, path = '/'): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /** Until a TCP connect to the port succeeds; fails at once with the process's output if it exits first. */
  waitForPort(port: number, options: WaitOptions = {}): Promise<void> {
    return waitForPort(this.proc, port, { timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs });
  }

  /** Until GET answers the wanted status (200 by default); returns that answer. */
  waitForHttp(port: number, path = '/', options: HttpWaitOptions = {}): Promise<HttpAnswer> {
    return waitForHttp(this.proc, this.url(port, path), { ...options, timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs });
  }

  /** Until it exits by itself (bounded: it is stopped and the wait fails after the timeout). */
  waitForExit(options: WaitOptions = {}): Promise<ExitStatus> {
    return waitForExit(this.proc, { timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs });
  }

  /** Stop signal, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<ExitStatus> {
    return this.proc.stop(graceMs);
  }
}

interface Session {
  context: TestContext;
  runner: Runner;
  images: Map<string, Promise<ResolvedImage>>;
}

let session: Session | undefined;

function createRunner(context: TestContext): Runner {
  const workDir = context.workDir ?? join(tmpdir(), `nx-multiarch-${process.pid}`);
  switch (context.runner) {
    case 'qemu':
      return new QemuRunner(context.arch, { workDir, emulateHost: context.emulateHost });
    case 'docker':
      return new DockerRunner(context.arch, { remote: false, dockerHost: context.dockerHost, workDir });
    case 'remote':
      return new DockerRunner(context.arch, { remote: true, dockerHost: context.dockerHost, workDir });
  }
}

function current(): Session {
  if (!session) {
    const context = decodeTestContext();
    session = { context, runner: createRunner(context), images: new Map() };
    installExitHooks();
  }
  return session;
}

/** Uses an explicit context instead of the environment (for tests of the plugin itself). */
export async function useTestContext(context: TestContext): Promise<void> {
  await stopAll();
  session = { context, runner: createRunner(context), images: new Map() };
  installExitHooks();
}

/** The arch, platform and runner under test, and the images and binaries the target provides. */
export function testContext(): TestContext {
  return current().context;
}

function workspaceRoot(context: TestContext): string {
  if (!context.workspaceRoot) {
    throw new MultiarchError('The workspace root is not known to this test run.', 'Run the test through the arch-integration executor, or set NX_MULTIARCH_WORKSPACE_ROOT.');
  }
  return context.workspaceRoot;
}

async function imageDir(context: TestContext, image: string | undefined, project: string | undefined): Promise<string> {
  if (project !== undefined) return findImageDir(workspaceRoot(context), project, context.archGiven ?? context.arch);
  if (image === undefined) {
    if (!context.imageLayout) {
      throw new MultiarchError(
        `Project ${context.project ?? '(unknown)'} has no image of its own under test.`,
        `Start another project's image with startImage({ project: '<name>' }), or one named in the target's images option (${Object.keys(context.images).join(', ') || 'none set'}).`,
      );
    }
    return context.imageLayout;
  }
  if (context.images[image]) return context.images[image];
  if (image.startsWith('/')) return image;
  throw new MultiarchError(
    `No image named "${image}" for this test run.`,
    `Add it to the arch-integration target's images option (name -> project), or use startImage({ project: '<name>' }); known: ${Object.keys(context.images).join(', ') || 'none'}.`,
  );
}

function loadImage(s: Session, dir: string): Promise<ResolvedImage> {
  let image = s.images.get(dir);
  if (!image) {
    image = resolveImage(dir, PLATFORMS[s.context.arch]);
    image.catch(() => s.images.delete(dir));
    s.images.set(dir, image);
  }
  return image;
}

async function startFrom(s: Session, dir: string, label: string, overrides: ProcessOverrides): Promise<ImageProcess> {
  const image = await loadImage(s, dir);
  const proc = await s.runner.start(image, processSpec(image.config, overrides), label);
  return new ImageProcess(proc, s.context.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
}

/** Starts a process of an image for the arch under test: its entrypoint and cmd, or the overrides. */
export async function startImage(options: StartOptions = {}): Promise<ImageProcess> {
  const s = current();
  const { image, project, name, ...overrides } = options;
  const label = `${name ?? image ?? project ?? s.context.project ?? 'image'} (${s.context.arch})`;
  return startFrom(s, await imageDir(s.context, image, project), label, overrides);
}

async function collect(proc: ImageProcess, timeoutMs: number | undefined): Promise<RunResult> {
  const status = await proc.waitForExit({ timeoutMs });
  return { ...status, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** Runs an image's command to completion (bounded) and returns its exit status and output. */
export async function runImage(options: StartOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const { timeoutMs, ...start } = options;
  return collect(await startImage(start), timeoutMs);
}

export interface BinaryOptions extends Omit<ProcessOverrides, 'entrypoint' | 'args'> {
  /** The project whose dist/cross/<project>/<arch>/ holds the binary; default the project under test. */
  project?: string;
}

async function binaryPath(context: TestContext, name: string, project: string | undefined): Promise<string> {
  if (project === undefined && context.binaries[name]) return context.binaries[name];
  if (name.startsWith('/')) return name;
  const owner = project ?? context.project;
  if (!owner) {
    throw new MultiarchError(`No binary named "${name}" for this test run.`, `Pass runBinary('${name}', args, { project: '<name>' }), or add it to the target's binaries option.`);
  }
  return findCrossBinary(workspaceRoot(context), owner, name, context.archGiven ?? context.arch);
}

/**
 * Starts a per-arch binary (such as the CLI) under the runner, as a one-file
 * image: a name from the target's binaries option, a file of
 * dist/cross/<project>/<arch>/ (the project under test by default), or a path.
 */
export async function startBinary(name: string, args: string[] = [], options: BinaryOptions = {}): Promise<ImageProcess> {
  const s = current();
  const { project, ...overrides } = options;
  const path = await binaryPath(s.context, name, project);
  const dir = await binaryImageLayout(path, PLATFORMS[s.context.arch], s.context.workDir ?? join(tmpdir(), `nx-multiarch-${process.pid}`));
  return startFrom(s, dir, `${name} (${s.context.arch})`, { ...overrides, args });
}

/** Runs a per-arch binary to completion (bounded) and returns its exit status and output. */
export async function runBinary(name: string, args: string[] = [], options: BinaryOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const { timeoutMs, ...rest } = options;
  return collect(await startBinary(name, args, rest), timeoutMs);
}

/** Stops every process this test file started and releases the runner's files and loaded images. */
export async function stopAll(): Promise<void> {
  await stopAllProcesses();
  const s = session;
  session = undefined;
  if (s) await s.runner.dispose();
}

/** For messages in tests: "exited with code 1" / "was killed by SIGTERM". */
export { describeExit };
