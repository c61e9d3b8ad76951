import type { Arch } from '../platform/platforms';
import type { LayoutImage } from '../oci/image-source';

/** How an image's processes are started: emulated in-process, in a local daemon, or on a native machine. */
export type RunnerName = 'qemu' | 'docker' | 'remote';

/** What the `runner` option accepts. `auto` is `remote` when a docker host is given, else `qemu`. */
export type RunnerChoice = RunnerName | 'auto';

/** One image manifest of an OCI layout, resolved for a platform and read (digests verified). */
export type ResolvedImage = LayoutImage;

/** What to run from an image: Docker's rules for Entrypoint, Cmd, Env and WorkingDir, with overrides. */
export interface ProcessOverrides {
  /** Replaces the image's Entrypoint (and, as in Docker, drops its Cmd unless `args` is given). */
  entrypoint?: string[];
  /** Replaces the image's Cmd. */
  args?: string[];
  /** Added to (and overriding) the image's Env. */
  env?: Record<string, string>;
  /** Replaces the image's WorkingDir. */
  workdir?: string;
}

/** The resolved command line inside the image's filesystem. */
export interface ProcessSpec {
  /** argv inside the image: argv[0] as the image names it (absolute or on PATH). */
  argv: string[];
  /** Environment as `KEY=value` pairs, image Env first, overrides applied. */
  env: string[];
  /** Absolute working directory inside the image. */
  workdir: string;
  /** Signal that stops the process (the image's StopSignal, default SIGTERM). */
  stopSignal: NodeJS.Signals;
}

export interface ExitStatus {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A process of an image, started by a runner. */
export interface RunningProcess {
  /** Host address the process's loopback listeners are reached on. */
  readonly host: string;
  /** The command that was run, for messages. */
  readonly description: string;
  /** Resolves once the process has ended (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** Output so far (bounded: the last bytes are kept). */
  stdout(): string;
  stderr(): string;
  /** Stops the process (stop signal, then SIGKILL after the grace period); resolves with its exit status. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** Whether the process has ended. */
  hasExited(): boolean;
}

/** A runner starts processes of images for one arch. */
export interface Runner {
  readonly name: RunnerName;
  readonly arch: Arch;
  start(image: ResolvedImage, spec: ProcessSpec, label: string): Promise<RunningProcess>;
  /** Releases what the runner holds (unpacked filesystems, loaded images). */
  dispose(): Promise<void>;
}
