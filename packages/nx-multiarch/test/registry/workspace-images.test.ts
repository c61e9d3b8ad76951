import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerClisOnPath, majorVersion, parseClientVersion } from '../../src/docker-daemon/cli';
import { MediaTypes, type ImageIndex } from '../../src/oci/types';
import { readJsonFile } from '../../src/outputs/json-file';
import { pushRecordPath, type PushRecord } from '../../src/outputs/push-record';
import { run } from '../../src/util/exec';
import { checkoutRepository, type Checkout } from '../support/repo-checkout';
import { startTestDockerd, type TestDockerDaemon } from '../support/dockerd';
import { runNx, taskOutput, type Clone } from '../support/nx-clone';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { CACHE_SERVER_IMAGE } from '../support/workspace-projects';

/**
 * manifest-push of the real workspace, read back by third parties. A fresh
 * clone of this repository builds every image for amd64, arm64 and arm
 * through Nx and pushes them to a loopback docker-registry
 * (`nx run-many -t manifest-push --registry=…`, the main job); then skopeo
 * reads each index, and a Docker engine pulls the linux/arm64 (and
 * linux/arm/v7) image from the registry and runs the Linkerd-shaped binary
 * in it under binfmt/qemu, which prints the platform it was built for.
 */
const ARCHES = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

/**
 * The first docker client on PATH older than 23: the engine here is Debian's
 * 20.10, and newer clients may refuse it. Falls back to the first client.
 */
async function dockerClient(env: NodeJS.ProcessEnv): Promise<string> {
  const clients = dockerClisOnPath(env);
  for (const path of clients) {
    const version = parseClientVersion((await run(path, ['--version'], { env })).stdout);
    if (version && majorVersion(version) < 23) return path;
  }
  if (!clients[0]) throw new Error('no docker client on PATH (install docker.io)');
  return clients[0];
}

describe('the workspace images pushed by manifest-push, as skopeo and docker see them', () => {
  let registry: RegistryServer;
  let checkout: Checkout;
  let clone: Clone;
  let dockerd: TestDockerDaemon;
  let docker: string;
  let projects: string[];

  const skopeoRaw = async (reference: string, config = false): Promise<Record<string, unknown>> => {
    const args = ['inspect', '--raw', ...(config ? ['--config'] : []), '--tls-verify=false', `docker://${registry.host}/${reference}`];
    const result = await run('skopeo', args);
    if (result.exitCode !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const dockerRun = async (args: string[]) => {
    const result = await run(docker, args, { env: dockerd.env, timeoutMs: 180_000 });
    if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
    return result.stdout.trim();
  };

  beforeAll(async () => {
    registry = await startRegistry();
    checkout = await checkoutRepository();
    clone = await checkout.clone('push');
    // qemu for arm64 and arm, registered machine-wide (a no-op when already there).
    const binfmt = await run('bash', [join(checkout.dir, 'tools', 'services.sh'), 'start', 'binfmt', 'qemu-aarch64', 'qemu-arm']);
    if (binfmt.exitCode !== 0) throw new Error(`binfmt registration failed: ${binfmt.stderr}`);
    dockerd = await startTestDockerd();
    docker = await dockerClient(dockerd.env);
  }, 240_000);
  afterAll(async () => {
    if (dockerd && !dockerd.owned) {
      for (const project of projects ?? []) await run(docker, ['rmi', '-f', `${registry.host}/${project}:latest`], { env: dockerd.env });
    }
    await dockerd?.stop();
    await registry?.stop();
    await checkout?.remove();
  }, 120_000);

  it('nx run-many -t manifest-push builds every image for three arches in a fresh clone and pushes them', async () => {
    const result = await runNx(clone, ['run-many', '-t', 'manifest-push', `--registry=${registry.host}`, `--exclude=${CACHE_SERVER_IMAGE}`]);
    if (result.exitCode !== 0) throw new Error(`manifest-push failed:\n${result.output.slice(-6000)}`);
    projects = (await readdir(join(clone.dir, 'dist', 'images'))).sort();
    expect(projects).toEqual(expect.arrayContaining(['linkerd2-controller', 'linkerd2-proxy-init', 'linkerd2-proxy-image', 'linkerd2-web', 'linkerd2-debug']));
    for (const project of projects) expect(result.output).toMatch(new RegExp(`${project}:\\s+tag latest -> index sha256:[a-f0-9]{64}`));
  }, 600_000);

  it('a re-push as Nx batches (--batch) prints each push under its own task, and writes nothing', async () => {
    expect(projects?.length).toBeGreaterThan(0);
    await rm(join(clone.dir, 'dist', 'push'), { recursive: true, force: true });
    const result = await runNx(clone, ['run-many', '-t', 'manifest-push', `--registry=${registry.host}`, `--exclude=${CACHE_SERVER_IMAGE}`, '--excludeTaskDependencies', '--batch']);
    if (result.exitCode !== 0) throw new Error(`the batched re-push failed:\n${result.output.slice(-6000)}`);
    expect(result.output).toMatch(/Running \d+ tasks with nx-multiarch:manifest-push/);
    for (const project of projects) {
      const pushed = taskOutput(result.output, `${project}:manifest-push`);
      expect(pushed).toMatch(new RegExp(`^Pushed ${registry.host.replace(/\./g, '\\.')}/${project}@sha256:[a-f0-9]{64} as latest$`, 'm'));
      // Another task's summary never lands in this one's block.
      expect(pushed.match(/^Pushed /gm)).toHaveLength(1);
      const record = await readJsonFile<PushRecord>(pushRecordPath(clone.dir, project));
      expect(record).toMatchObject({ project, requests: 1, manifestsPushed: 0 });
    }
  }, 600_000);

  it('skopeo inspect --raw shows, for every image, an OCI index of amd64, arm64 and arm/v7 whose configs agree', async () => {
    expect(projects?.length).toBeGreaterThan(0);
    for (const project of projects) {
      const index = (await skopeoRaw(`${project}:latest`)) as unknown as ImageIndex;
      expect(index.mediaType).toBe(MediaTypes.ociIndex);
      expect(index.manifests.map((m) => m.platform)).toEqual(expect.arrayContaining(ARCHES));
      expect(index.manifests).toHaveLength(ARCHES.length);
      for (const child of index.manifests) {
        expect(child.mediaType).toBe(MediaTypes.ociManifest);
        const config = await skopeoRaw(`${project}@${child.digest}`, true);
        expect({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }).toEqual(child.platform);
      }
    }
  }, 120_000);

  it.each([
    ['linkerd2-controller', 'linux/arm64', /^linkerd2-controller \S+ linux\/arm64$/],
    ['linkerd2-proxy-init', 'linux/arm64', /^linkerd2-proxy-init \S+ linux\/arm64$/],
    ['linkerd2-proxy-init', 'linux/arm/v7', /^linkerd2-proxy-init \S+ linux\/arm\/v7$/],
  ])('docker pulls %s for %s from the registry and runs it under binfmt: the binary prints its platform', async (project, platform, expected) => {
    const image = `${registry.host}/${project}:latest`;
    await dockerRun(['pull', '--platform', platform, image]);
    const [os, architecture, variant] = platform.split('/');
    const inspected = await dockerRun(['image', 'inspect', image, '--format', '{{.Os}}/{{.Architecture}}/{{.Variant}}']);
    expect(inspected).toBe(`${os}/${architecture}/${variant ?? ''}`);
    const printed = await dockerRun(['run', '--rm', '--pull', 'never', '--network', 'none', '--platform', platform, image, '--version']);
    expect(printed).toMatch(expected);
  }, 240_000);
});
