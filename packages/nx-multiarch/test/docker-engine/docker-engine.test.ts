import { copyFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { DockerEngine } from '../../src/image/docker/engine';
import { readTarEntries } from '../../src/oci/tar';
import { selectDockerCli } from '../../src/docker-daemon/cli';
import { MultiarchError } from '../../src/errors';
import { OciLayoutReader } from '../../src/oci/layout';
import { Annotations } from '../../src/oci/types';
import { PLATFORMS } from '../../src/platform/platforms';
import { run, runChecked } from '../../src/util/exec';
import { startTestDockerd, TestDockerDaemon } from '../support/dockerd';
import {
  cleanUpTemp,
  ensureBinfmt,
  goHello,
  listDir,
  makeBusyboxBase,
  requestFor,
  SOURCE_DATE_EPOCH,
  tempDir,
  validateLayout,
} from './fixtures';

/**
 * The docker engine against a real dockerd: cross-built Go binaries COPY'd
 * into FROM scratch images for arm64 and arm/v7, a RUN step under qemu for
 * arm64, a wrong-arch binary refused, and the result read by skopeo and umoci.
 */
jest.setTimeout(300_000);

let daemon: TestDockerDaemon;
let engine: DockerEngine;

beforeAll(async () => {
  daemon = await startTestDockerd();
  engine = new DockerEngine({ env: daemon.env });
});

afterAll(async () => {
  await daemon?.stop();
  await cleanUpTemp();
});

const COPY_DOCKERFILE = `FROM scratch
ARG TARGETARCH
LABEL org.example.arch=$TARGETARCH
COPY hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
`;

async function helloContext(arch: keyof typeof PLATFORMS, dockerfile = COPY_DOCKERFILE): Promise<string> {
  const context = await tempDir(`ctx-${arch}`);
  await goHello(PLATFORMS[arch], context);
  await writeFile(join(context, 'Dockerfile'), dockerfile);
  return context;
}

/** Temporary tags the engine left in the daemon. */
async function leftoverTags(): Promise<string[]> {
  const cli = await selectDockerCli(daemon.env);
  const result = await runChecked(cli.path, ['images', '--format', '{{.Repository}}:{{.Tag}}'], { env: daemon.env });
  return result.stdout.split('\n').filter((line) => line.startsWith('nx-multiarch-tmp/'));
}

interface SkopeoView {
  Architecture: string;
  Os: string;
  Digest: string;
  Labels: Record<string, string> | null;
  /** From `skopeo inspect --config` (skopeo 1.9's summary has no variant). */
  variant?: string;
}

async function skopeoInspect(layoutDir: string, tag: string): Promise<SkopeoView> {
  const summary = JSON.parse((await runChecked('skopeo', ['inspect', `oci:${layoutDir}:${tag}`])).stdout) as SkopeoView;
  const config = JSON.parse((await runChecked('skopeo', ['inspect', '--config', `oci:${layoutDir}:${tag}`])).stdout) as { variant?: string };
  return { ...summary, variant: config.variant };
}

async function fileInLayers(layoutDir: string, path: string): Promise<Buffer | undefined> {
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  const manifest = await reader.readJson<{ layers: { digest: `sha256:${string}` }[] }>(index.manifests[0].digest);
  let found: Buffer | undefined;
  for (const layer of manifest.layers) {
    for (const entry of await readTarEntries(gunzip(await reader.readBlob(layer.digest)))) {
      if (entry.header.name.replace(/^\.?\//, '') === path) found = entry.content;
    }
  }
  return found;
}

describe('docker engine: FROM scratch + COPY of a cross-built binary', () => {
  it('builds linux/arm64 into a valid OCI layout that skopeo and umoci read, with the binary byte for byte', async () => {
    const context = await helloContext('arm64');
    const request = await requestFor(PLATFORMS.arm64, context, {
      tags: ['example.test/hello:1.0'],
      labels: { 'org.opencontainers.image.revision': 'abc123' },
      buildArgs: { UNUSED_ARG: 'x' },
    });
    const result = await engine.build(request);

    const { index, manifest, config } = await validateLayout(request.layoutDir);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].digest).toBe(result.manifest.digest);
    expect(index.manifests[0].platform).toEqual({ architecture: 'arm64', os: 'linux' });
    expect(index.manifests[0].annotations).toEqual({ [Annotations.refName]: 'example.test/hello:1.0' });
    expect(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip')).toBe(true);
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux', created: '2023-11-14T22:13:20Z' });
    expect(config).not.toHaveProperty('variant');
    expect(config.config).toMatchObject({
      Entrypoint: ['/usr/local/bin/hello'],
      Labels: { 'org.example.arch': 'arm64', 'org.opencontainers.image.revision': 'abc123' },
    });

    const skopeo = await skopeoInspect(request.layoutDir, 'example.test/hello:1.0');
    expect(skopeo).toMatchObject({ Architecture: 'arm64', Os: 'linux', Digest: result.manifest.digest });
    expect(skopeo.Labels).toMatchObject({ 'org.example.arch': 'arm64' });
    expect(skopeo.variant).toBeUndefined();
    const umoci = await run('umoci', ['stat', '--image', `${request.layoutDir}:example.test/hello:1.0`]);
    expect(umoci.stderr).toBe('');
    expect(umoci.exitCode).toBe(0);

    const inImage = await fileInLayers(request.layoutDir, 'usr/local/bin/hello');
    expect(inImage?.equals(await readFile(join(context, 'hello')))).toBe(true);
    expect(await leftoverTags()).toEqual([]);
  });

  it('builds linux/arm/v7 with variant v7 in the config, the index and skopeo', async () => {
    const context = await helloContext('arm');
    const request = await requestFor(PLATFORMS.arm, context, { tags: ['hello-arm'] });
    const result = await engine.build(request);
    const { index, config } = await validateLayout(request.layoutDir);
    expect(index.manifests[0].platform).toEqual({ architecture: 'arm', os: 'linux', variant: 'v7' });
    expect(config).toMatchObject({ architecture: 'arm', os: 'linux', variant: 'v7' });
    const skopeo = await skopeoInspect(request.layoutDir, 'hello-arm');
    expect(skopeo).toMatchObject({ Architecture: 'arm', Os: 'linux', variant: 'v7', Digest: result.manifest.digest });
  });

  it('refuses an amd64 binary in an arm64 image, writes nothing, and removes its temporary tag', async () => {
    const context = await tempDir('ctx-wrong');
    await goHello(PLATFORMS.amd64, context);
    await writeFile(join(context, 'Dockerfile'), COPY_DOCKERFILE);
    const request = await requestFor(PLATFORMS.arm64, context);
    const error = await engine.build(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toMatch(/\/usr\/local\/bin\/hello \(in layer 1 of 1\) is an ELF binary for amd64, not arm64/);
    expect(listDir(request.layoutDir)).toEqual([]);
    expect(await leftoverTags()).toEqual([]);
  });

  it('gives the same manifest digest from two checkouts at different paths with different file times', async () => {
    const first = await helloContext('arm64');
    const second = await tempDir('ctx-second-checkout-at-another-path');
    await copyFile(join(first, 'hello'), join(second, 'hello'));
    await copyFile(join(first, 'Dockerfile'), join(second, 'Dockerfile'));
    await utimes(join(second, 'hello'), new Date('2031-01-02T03:04:05Z'), new Date('2031-01-02T03:04:05Z'));
    // No daemon cache: a cache hit would hand back the first build's layer and prove nothing.
    const uncached = new DockerEngine({ env: daemon.env, noCache: true });
    const a = await uncached.build(await requestFor(PLATFORMS.arm64, first, { tags: ['t'] }));
    const b = await uncached.build(await requestFor(PLATFORMS.arm64, second, { tags: ['t'] }));
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(b.layers.map((l) => l.digest)).toEqual(a.layers.map((l) => l.digest));
  });

  it('fails with the fix when the daemon does not answer', async () => {
    const context = await helloContext('arm64');
    const offline = new DockerEngine({ env: { ...daemon.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    const request = await requestFor(PLATFORMS.arm64, context);
    await expect(offline.build(request)).rejects.toMatchObject({
      message: expect.stringContaining('DOCKER_HOST=unix:///nonexistent/docker.sock does not answer'),
      hint: expect.stringContaining('bash tools/services.sh start dockerd'),
    });
    expect(listDir(request.layoutDir)).toEqual([]);
  });
});

describe('docker engine: RUN for a foreign arch', () => {
  const base = 'nx-multiarch-test/busybox:arm64';
  const RUN_DOCKERFILE = `FROM ${base}
RUN /bin/busybox uname -m > /built-on && echo ready > /tmp/state
COPY hello /hello
`;

  beforeAll(async () => {
    await makeBusyboxBase(PLATFORMS.arm64, base, daemon.env);
  });

  it('refuses before building when binfmt has no qemu-aarch64 registration, naming the line and the fix', async () => {
    const context = await helloContext('arm64', RUN_DOCKERFILE);
    const noBinfmt = new DockerEngine({ env: daemon.env, binfmtDir: await tempDir('empty-binfmt') });
    const request = await requestFor(PLATFORMS.arm64, context);
    await expect(noBinfmt.build(request)).rejects.toMatchObject({
      message: expect.stringMatching(/RUN on line 2.*no qemu-aarch64 registration/),
      hint: expect.stringContaining('bash tools/services.sh start binfmt'),
    });
  });

  it('runs the RUN step under qemu when binfmt is registered, and the image holds its output', async () => {
    await ensureBinfmt(PLATFORMS.arm64);
    const context = await helloContext('arm64', RUN_DOCKERFILE);
    const request = await requestFor(PLATFORMS.arm64, context, { tags: ['with-run'] });
    const result = await engine.build(request);
    const { config } = await validateLayout(request.layoutDir);
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux' });
    expect(result.layers).toHaveLength(3);
    expect((await fileInLayers(request.layoutDir, 'built-on'))?.toString()).toBe('aarch64\n');
    expect((await fileInLayers(request.layoutDir, 'bin/busybox'))?.length).toBeGreaterThan(100_000);
    // Layers written by RUN carry the build's clock; they are clamped to SOURCE_DATE_EPOCH.
    const reader = new OciLayoutReader(request.layoutDir);
    const runLayer = await readTarEntries(gunzip(await reader.readBlob(result.layers[1].digest)));
    expect(runLayer.length).toBeGreaterThan(0);
    expect(Math.max(...runLayer.map((e) => e.header.mtime.getTime() / 1000))).toBeLessThanOrEqual(SOURCE_DATE_EPOCH);
    // The base layer (all times before the epoch) passes through unchanged: same diff_id as in the daemon.
    const cli = await selectDockerCli(daemon.env);
    const baseLayers = JSON.parse((await runChecked(cli.path, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', base], { env: daemon.env })).stdout) as string[];
    expect((config.rootfs as { diff_ids: string[] }).diff_ids[0]).toBe(baseLayers[0]);
  });

  it('gives the same manifest digest for the RUN image built twice without the daemon cache', async () => {
    await ensureBinfmt(PLATFORMS.arm64);
    const uncached = new DockerEngine({ env: daemon.env, noCache: true });
    const digests: string[] = [];
    for (const name of ['first-clone', 'second-clone-elsewhere']) {
      const context = await helloContext('arm64', RUN_DOCKERFILE);
      const moved = await tempDir(name);
      await copyFile(join(context, 'hello'), join(moved, 'hello'));
      await copyFile(join(context, 'Dockerfile'), join(moved, 'Dockerfile'));
      digests.push((await uncached.build(await requestFor(PLATFORMS.arm64, moved))).manifest.digest);
    }
    expect(digests[1]).toBe(digests[0]);
  });
});
