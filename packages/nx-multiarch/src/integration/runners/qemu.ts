import { mkdir } from 'node:fs/promises';
import { MultiarchError } from '../../errors';
import { hostArch, PLATFORMS, platformString, type Arch, type PlatformSpec } from '../../platform/platforms';
import { QEMU_USER_PACKAGE } from '../../cross/arch-requirements';
import { which } from '../../util/exec';
import { spawnTracked } from '../child-process';
import { envObject } from '../process-spec';
import { inspectProgram } from '../program-file';
import { resolveInRoot } from '../root-path';
import { RootfsCache } from '../rootfs-cache';
import type { ProcessSpec, ResolvedImage, Runner, RunningProcess } from '../types';

/**
 * The daemonless runner: the image's root filesystem unpacked into a folder,
 * its program started by qemu-user with `-L <rootfs>` (the ELF interpreter
 * and absolute file paths are looked up in the image first), `-0` giving the
 * program its in-image argv[0], and QEMU_CPU pinned to the arch's variant.
 *
 * An image of the host's arch whose program is a static ELF runs natively, so
 * amd64 is the unemulated baseline the slowdown is measured against; a
 * dynamic one goes through qemu-x86_64-static too, because only -L makes it
 * load the image's libraries rather than the host's. `emulateHost` sends
 * every image through qemu.
 *
 * Limits against a container: no namespaces (processes share the host's
 * network, which is what the tests want, and see host paths in getcwd), and
 * the image's User is not applied: the process runs as the caller.
 */
export interface QemuRunnerOptions {
  /** Folder under which root filesystems are unpacked (a temporary folder by default). */
  workDir?: string;
  emulateHost?: boolean;
  /** Environment whose PATH is searched for qemu-<arch>-static. */
  env?: NodeJS.ProcessEnv;
}

/** How a program of the image is started on this host. */
export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  argv0: string;
  mode: 'native' | 'qemu';
  diagnosis?: string;
}

export function qemuMissing(platform: PlatformSpec): MultiarchError {
  return new MultiarchError(
    `${platform.qemu}-static is not on PATH; the qemu runner needs it to run ${platformString(platform.oci)} programs.`,
    `Install it with \`apt-get install ${QEMU_USER_PACKAGE}\` (or run \`bash tools/setup.sh\`).`,
  );
}

/** Works out the host command that runs `spec` from the unpacked `root`. */
export async function planLaunch(
  root: string,
  spec: ProcessSpec,
  platform: PlatformSpec,
  options: { emulateHost?: boolean; qemuPath?: (name: string) => string | undefined } = {},
): Promise<Launch> {
  const program = await inspectProgram(root, spec, platform);
  const cwd = resolveInRoot(root, spec.workdir, true);
  await mkdir(cwd, { recursive: true });
  const env = envObject(spec.env);
  const argv0 = program.argv[0];
  // A mismatched binary goes through the arch's qemu too, so the failure is the one a real machine of that arch would give.
  if (platform.arch === hostArch() && program.isStatic && !options.emulateHost && !program.mismatch) {
    return { command: program.onHost, args: program.argv.slice(1), env, cwd, argv0, mode: 'native' };
  }
  const qemu = (options.qemuPath ?? ((name: string) => which(name)))(`${platform.qemu}-static`);
  if (!qemu) throw qemuMissing(platform);
  if (platform.qemuCpu) env.QEMU_CPU = platform.qemuCpu;
  return { command: qemu, args: ['-L', root, '-0', argv0, program.onHost, ...program.argv.slice(1)], env, cwd, argv0, mode: 'qemu', diagnosis: program.mismatch && `${program.mismatch.message} ${program.mismatch.hint}` };
}

export class QemuRunner implements Runner {
  readonly name = 'qemu' as const;
  private readonly roots: RootfsCache;

  constructor(
    readonly arch: Arch,
    private readonly options: QemuRunnerOptions = {},
  ) {
    this.roots = new RootfsCache(options.workDir);
  }

  async start(image: ResolvedImage, spec: ProcessSpec, label: string): Promise<RunningProcess> {
    const root = await this.roots.rootfs(image);
    const platform = PLATFORMS[this.arch];
    const launch = await planLaunch(root, spec, platform, {
      emulateHost: this.options.emulateHost,
      qemuPath: (name) => which(name, this.options.env ?? process.env),
    });
    return spawnTracked({
      command: launch.command,
      args: launch.args,
      env: launch.env,
      cwd: launch.cwd,
      // qemu's own argv[0] stays its path; the program's comes from -0.
      argv0: launch.mode === 'native' ? launch.argv0 : undefined,
      host: '127.0.0.1',
      description: `${label} [${spec.argv.join(' ')}] (${launch.mode === 'native' ? 'native' : `${platform.qemu}-static`})`,
      stopSignal: spec.stopSignal,
      diagnosis: launch.diagnosis,
    });
  }

  dispose(): Promise<void> {
    return this.roots.dispose();
  }
}
