import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { buildImage } from '../../src/image/build-image';
import { DockerEngine } from '../../src/image/docker/engine';
import { readTarEntries } from '../../src/oci/tar';
import { IMAGE_SUMMARY_FILE, type ImageSummary } from '../../src/outputs/image-summary';
import { nativeEngine } from '../../src/image/native/engine';
import { OciLayoutReader } from '../../src/oci/layout';
import type { ImageManifest } from '../../src/oci/types';
import { PLATFORMS, type Arch } from '../../src/platform/platforms';
import { pushBase, writeBusyboxBase } from '../support/busybox-base';
import { startTestDockerd, type TestDockerDaemon } from '../support/dockerd';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { cleanUpTemp, SOURCE_DATE_EPOCH, tempDir, validateLayout } from './fixtures';

/**
 * The docker engine behind buildImage (what the docker-arch-build executor
 * calls), against the native engine on the same workspace: FROM a multi-arch
 * base in a loopback registry, COPY with --chown, ENV, LABEL, CMD. The
 * digests differ (BuildKit writes a layer per COPY, native one for all), but
 * what a reader of dist/images sees must not: the summary file, platform,
 * config settings, labels and the files with their modes and owners.
 */
jest.setTimeout(300_000);

const ARCHES: Arch[] = ['arm64', 'arm'];
let daemon: TestDockerDaemon;
let registry: RegistryServer;
let workspace: string;

const DOCKERFILE = (base: string) => `FROM ${base}
ARG TARGETARCH
LABEL org.example.title="demo"
COPY app.txt /srv/app.txt
COPY --chown=1000:1000 data/ /srv/data/
ENV APP=demo-\${TARGETARCH}
USER 1000:1000
CMD ["/bin/sh", "-c", "cat /srv/app.txt"]
`;

beforeAll(async () => {
  daemon = await startTestDockerd();
  registry = await startRegistry();
  workspace = join(await tempDir('same-as-native'), 'ws');
  const base = await writeBusyboxBase(join(await tempDir('busybox-base'), 'layout'), ARCHES);
  await pushBase(registry.host, 'base/busybox', 'stable', base);
  await mkdir(join(workspace, 'packages', 'demo', 'data'), { recursive: true });
  await writeFile(join(workspace, 'packages', 'demo', 'Dockerfile'), DOCKERFILE(`${registry.host}/base/busybox:stable`));
  await writeFile(join(workspace, 'packages', 'demo', 'app.txt'), 'app\n');
  await writeFile(join(workspace, 'packages', 'demo', 'data', 'seed.txt'), 'seed\n');
});

afterAll(async () => {
  await registry?.stop();
  await daemon?.stop();
  await cleanUpTemp();
});

interface FileView {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  content: string;
}

/** The image's file system as an extractor would leave it (later layers over earlier ones). */
async function fileSystem(layoutDir: string): Promise<Map<string, FileView>> {
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  const manifest = await reader.readJson<ImageManifest>(index.manifests[0].digest);
  const files = new Map<string, FileView>();
  for (const layer of manifest.layers) {
    for (const { header, content } of await readTarEntries(gunzip(await reader.readBlob(layer.digest)))) {
      const path = header.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      files.set(path, { type: header.type, mode: header.mode & 0o7777, uid: header.uid, gid: header.gid, content: content.toString('base64') });
    }
  }
  return files;
}

async function buildWith(engine: 'native' | 'docker', arch: Arch): Promise<{ dir: string; summary: ImageSummary }> {
  const root = join(await tempDir(`ws-${engine}`), 'ws');
  await cp(workspace, root, { recursive: true });
  const { outputDir } = await buildImage({
    workspaceRoot: root,
    project: 'demo',
    projectRoot: 'packages/demo',
    arch,
    engine,
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    tags: ['example.test/demo:1.0'],
    engines: { native: nativeEngine, docker: new DockerEngine({ env: daemon.env }) },
  });
  return { dir: outputDir, summary: JSON.parse(await readFile(join(outputDir, IMAGE_SUMMARY_FILE), 'utf8')) as ImageSummary };
}

describe.each(ARCHES)('docker engine against native engine, %s', (arch) => {
  it('writes the same kind of output: summary, index entry, config settings, labels and files', async () => {
    const native = await buildWith('native', arch);
    const docker = await buildWith('docker', arch);

    expect(docker.summary).toMatchObject({
      engine: 'docker',
      platform: native.summary.platform,
      tags: native.summary.tags,
      layout: native.summary.layout,
      project: 'demo',
      arch,
    });
    const nativeLayout = await validateLayout(native.dir);
    const dockerLayout = await validateLayout(docker.dir);
    expect(docker.summary.manifestDigest).toBe(dockerLayout.index.manifests[0].digest);
    const { digest: _n, size: _ns, ...nativeEntry } = nativeLayout.index.manifests[0];
    const { digest: _d, size: _ds, ...dockerEntry } = dockerLayout.index.manifests[0];
    expect(dockerEntry).toEqual(nativeEntry);

    const pick = (c: typeof nativeLayout.config) => ({
      architecture: c.architecture,
      os: c.os,
      variant: c.variant,
      created: c.created,
      User: c.config?.User,
      Cmd: c.config?.Cmd,
      Env: c.config?.Env,
      Labels: c.config?.Labels,
    });
    expect(pick(dockerLayout.config)).toEqual(pick(nativeLayout.config));
    expect(dockerLayout.config).toMatchObject({ architecture: PLATFORMS[arch].oci.architecture });
    expect(dockerLayout.config.config?.Env).toContain(`APP=demo-${PLATFORMS[arch].oci.architecture}`);
    expect(dockerLayout.config.config?.Labels?.['org.example.title']).toBe('demo');
    // The base layer is the registry's, byte for byte, in both.
    expect(dockerLayout.manifest.layers[0].digest).toBe(nativeLayout.manifest.layers[0].digest);

    const nativeFiles = await fileSystem(native.dir);
    const dockerFiles = await fileSystem(docker.dir);
    for (const path of ['bin/busybox', 'bin/sh', 'tmp', 'srv/app.txt', 'srv/data/seed.txt']) {
      expect([path, dockerFiles.get(path)]).toEqual([path, nativeFiles.get(path)]);
    }
    expect(dockerFiles.get('srv/data/seed.txt')).toMatchObject({ uid: 1000, gid: 1000 });
  });
});
