import { randomBytes } from 'node:crypto';
import { MultiarchError } from '../../errors';
import { digestHex } from '../../oci/digest';
import { PLATFORMS, platformString, type Arch } from '../../platform/platforms';
import { run, runChecked } from '../../util/exec';
import { spawnTracked } from '../child-process';
import { inspectProgram } from '../program-file';
import { RootfsCache } from '../rootfs-cache';
import type { ProcessSpec, ResolvedImage, Runner, RunningProcess } from '../types';
import { dockerArchive } from '../../oci/docker-archive/write';

/**
 * `docker load` of the layout (converted in memory, see docker-archive.ts),
 * then an attached `docker run --platform … --network host`, so the image's
 * listeners are on the engine host's loopback and its output streams back
 * through the client. `docker` uses the local engine (foreign arches through
 * binfmt); `remote` an engine on a native machine of the arch (DOCKER_HOST),
 * whose listeners the tests reach at that machine's address.
 */
export interface DockerRunnerOptions {
  remote: boolean;
  /** DOCKER_HOST for every docker command; unset means the environment's. */
  dockerHost?: string;
  workDir?: string;
  env?: NodeJS.ProcessEnv;
}

const DOCKER_HOST_SCHEMES = ['tcp:', 'ssh:', 'unix:', 'npipe:', 'fd:', 'http:', 'https:'];

/** The address a `--network host` container's listeners are reached at: the engine's host. */
export function engineHostAddress(dockerHost: string | undefined): string {
  if (!dockerHost) return '127.0.0.1';
  let url: URL | undefined;
  try {
    url = new URL(dockerHost);
  } catch {
    url = undefined;
  }
  if (!url || !DOCKER_HOST_SCHEMES.includes(url.protocol)) {
    throw new MultiarchError(`Docker host "${dockerHost}" is not a DOCKER_HOST URL.`, 'Use tcp://host:2376, ssh://user@host or unix:///path/docker.sock.');
  }
  if (url.protocol === 'unix:' || url.protocol === 'npipe:' || url.protocol === 'fd:') return '127.0.0.1';
  return url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
}

export function dockerEnv(options: Pick<DockerRunnerOptions, 'dockerHost' | 'env'>): NodeJS.ProcessEnv {
  const env = { ...(options.env ?? process.env) };
  if (options.dockerHost) env.DOCKER_HOST = options.dockerHost;
  return env;
}

/** The `docker run` arguments for one process: the full argv through --entrypoint, so Docker adds nothing of its own. */
export function dockerRunArgs(name: string, tag: string, platform: string, spec: ProcessSpec): string[] {
  const args = ['run', '--rm', '--name', name, '--platform', platform, '--network', 'host', '--workdir', spec.workdir, '--entrypoint', spec.argv[0]];
  for (const pair of spec.env) args.push('--env', pair);
  return [...args, tag, ...spec.argv.slice(1)];
}

export class DockerRunner implements Runner {
  readonly name: 'docker' | 'remote';
  private readonly loaded = new Map<string, Promise<string>>();
  private readonly roots: RootfsCache;
  readonly host: string;

  constructor(
    readonly arch: Arch,
    private readonly options: DockerRunnerOptions,
  ) {
    this.name = options.remote ? 'remote' : 'docker';
    this.host = engineHostAddress(options.remote ? (options.dockerHost ?? options.env?.DOCKER_HOST ?? process.env.DOCKER_HOST) : undefined);
    this.roots = new RootfsCache(options.workDir);
  }

  private env(): NodeJS.ProcessEnv {
    return dockerEnv(this.options);
  }

  /** Loads the image once per manifest digest, under a tag no other image can have. */
  private load(image: ResolvedImage): Promise<string> {
    let tag = this.loaded.get(image.manifestDigest);
    if (!tag) {
      tag = (async () => {
        const name = `nx-multiarch-test/${this.arch}:${digestHex(image.manifestDigest).slice(0, 16)}`;
        await runChecked('docker', ['load'], {
          input: await dockerArchive(image, name),
          env: this.env(),
          what: `docker load of ${image.layoutDir}`,
          hint: 'Check that the docker engine is running and has space; `docker load` must accept the image archive.',
        });
        return name;
      })();
      tag.catch(() => this.loaded.delete(image.manifestDigest));
      this.loaded.set(image.manifestDigest, tag);
    }
    return tag;
  }

  async start(image: ResolvedImage, spec: ProcessSpec, label: string): Promise<RunningProcess> {
    const platform = PLATFORMS[this.arch];
    // Refuse a binary of another arch up front: a local engine would run an amd64 binary natively and hide the fault.
    const program = await inspectProgram(await this.roots.rootfs(image), spec, platform);
    if (program.mismatch) {
      throw new MultiarchError(`${label}: ${program.mismatch.message}`, program.mismatch.hint);
    }
    const tag = await this.load(image);
    const name = `nx-multiarch-${process.pid}-${randomBytes(4).toString('hex')}`;
    const env = this.env();
    return spawnTracked({
      command: 'docker',
      args: dockerRunArgs(name, tag, platformString(platform.oci), spec),
      env: env as Record<string, string>,
      host: this.host,
      description: `${label} [${spec.argv.join(' ')}] (docker run --platform ${platformString(platform.oci)}${this.options.remote ? ` on ${env.DOCKER_HOST}` : ''})`,
      stopSignal: spec.stopSignal,
      stopHook: async (graceMs) => {
        await runChecked('docker', ['stop', '--time', String(Math.max(1, Math.ceil(graceMs / 1000))), name], { env, timeoutMs: graceMs + 15_000 });
      },
    });
  }

  async dispose(): Promise<void> {
    const tags = await Promise.all([...this.loaded.values()].map((t) => t.catch(() => undefined)));
    const present = tags.filter((t): t is string => !!t);
    if (present.length > 0) await run('docker', ['rmi', '--force', ...present], { env: this.env(), timeoutMs: 60_000 }).catch(() => undefined);
    this.loaded.clear();
    await this.roots.dispose();
  }
}
