import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { PLATFORMS, platformString, type Arch } from '../../src/platform/platforms';
import { busyboxBinary } from '../support/busybox';
import { validateLayout } from '../support/oci-schemas';
import { build, cleanUpTemp, copyWorkspace, EPOCH, imageFiles, skopeoInspect, tempDir, tool, writeFiles } from './helpers';

/**
 * The native engine FROM scratch, end to end through buildImage: real
 * busybox binaries of three arches staged as artifacts, every document
 * checked against the OCI schemas and read back by skopeo and umoci, the
 * same digests from another checkout path, and bad input refused with
 * nothing left in dist.
 */
const ARCHES: Arch[] = ['amd64', 'arm64', 'arm'];

const DOCKERFILE = `# A scratch image around busybox, as the Linkerd images are around their binaries.
FROM scratch
ARG TARGETARCH
ARG TARGETPLATFORM
ARG GREETING=hello
LABEL test.platform=$TARGETPLATFORM test.arch="\${TARGETARCH}"
COPY --chmod=755 bin/busybox /bin/busybox
COPY --chown=65532:65532 conf/ /etc/demo/
COPY notes/*.txt /usr/share/doc/demo/
ENV GREETING="\${GREETING} world" PATH=/bin
USER 65532:65532
WORKDIR /home/demo
EXPOSE 8080 9990/tcp
ENTRYPOINT ["/bin/busybox"]
CMD echo "$GREETING"
`;

let workspace: string;
const binaries: Partial<Record<Arch, Buffer>> = {};

async function makeWorkspace(): Promise<string> {
  const root = join(await tempDir('scratch-ws'), 'ws');
  await writeFiles(root, {
    'packages/demo/Dockerfile': DOCKERFILE,
    'packages/demo/conf/demo.conf': 'listen = 8080\n',
    'packages/demo/notes/a.txt': 'a\n',
    'packages/demo/notes/b.txt': 'b\n',
    'packages/demo/notes/skip.md': 'not copied\n',
    'packages/demo/.dockerignore': 'secret.txt\n',
    'packages/demo/secret.txt': 'never in an image\n',
    'packages/demo/package.json': JSON.stringify({ name: 'demo', version: '1.2.3' }),
  });
  for (const arch of ARCHES) {
    const binary = await busyboxBinary(PLATFORMS[arch].debianArch);
    binaries[arch] = binary;
    await writeFiles(root, { [`dist/cross/busybox/${arch}/busybox`]: binary });
  }
  return root;
}

const ARTIFACTS = [{ from: 'dist/cross/busybox/{arch}', to: 'bin' }];

/** Scratch contexts still in the workspace (there should be none after a build, good or bad). */
function scratchLeftovers(root: string): Promise<string[]> {
  return readdir(join(root, '.nx-multiarch', 'tmp')).catch(() => []);
}

beforeAll(async () => {
  workspace = await makeWorkspace();
}, 300_000);
afterAll(cleanUpTemp);

describe.each(ARCHES)('FROM scratch for %s', (arch) => {
  let outputDir: string;
  let summary: ImageSummary;

  beforeAll(async () => {
    ({ outputDir, summary } = await build(workspace, arch, { artifacts: ARTIFACTS, tags: ['v1.2.3', 'edge'] }));
  });

  it('writes a layout that validates against the OCI schemas, with the platform of the arch', async () => {
    expect(outputDir).toBe(join(workspace, 'dist', 'images', 'demo', arch));
    const { index, images } = await validateLayout(outputDir);
    expect(images).toHaveLength(1);
    const [{ descriptor, config, manifest }] = images;
    const oci = PLATFORMS[arch].oci;
    expect(descriptor.platform).toEqual(oci.variant ? { os: 'linux', architecture: oci.architecture, variant: oci.variant } : { os: 'linux', architecture: oci.architecture });
    expect(index.manifests[0].annotations).toEqual({ 'org.opencontainers.image.ref.name': 'v1.2.3' });
    expect([config.os, config.architecture, config.variant]).toEqual(['linux', oci.architecture, oci.variant]);
    if (arch === 'arm') expect(config.variant).toBe('v7');
    if (arch === 'arm64') expect(config).not.toHaveProperty('variant');
    expect(manifest.layers).toHaveLength(1);
    expect(config.rootfs.diff_ids).toHaveLength(1);
  });

  it('sets the config as the Dockerfile says, with the standard labels', async () => {
    const { images } = await validateLayout(outputDir);
    const { config } = images[0];
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    expect(config.config).toEqual({
      Env: ['PATH=/bin', 'GREETING=hello world'],
      Labels: {
        'test.platform': platformString(PLATFORMS[arch].oci),
        'test.arch': PLATFORMS[arch].oci.architecture,
        'org.opencontainers.image.version': '1.2.3',
        'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      },
      User: '65532:65532',
      WorkingDir: '/home/demo',
      ExposedPorts: { '8080/tcp': {}, '9990/tcp': {} },
      Entrypoint: ['/bin/busybox'],
      Cmd: ['/bin/sh', '-c', 'echo "$GREETING"'],
    });
    expect(config.history?.filter((h) => !h.empty_layer)).toHaveLength(1);
    expect(config.history?.every((h) => h.created === '2023-11-14T22:13:20Z')).toBe(true);
  });

  it('puts the staged binary in the image byte for byte, and only the files COPY names', async () => {
    const files = await imageFiles(outputDir);
    expect(files.get('bin/busybox')?.content?.equals(binaries[arch] as Buffer)).toBe(true);
    expect(files.get('bin/busybox')?.mode).toBe(0o755);
    expect(files.get('etc/demo/demo.conf')?.content?.toString()).toBe('listen = 8080\n');
    expect([...files.keys()].sort()).toEqual([
      'bin',
      'bin/busybox',
      'etc',
      'etc/demo',
      'etc/demo/demo.conf',
      'home',
      'home/demo',
      'usr',
      'usr/share',
      'usr/share/doc',
      'usr/share/doc/demo',
      'usr/share/doc/demo/a.txt',
      'usr/share/doc/demo/b.txt',
    ]);
  });

  it('writes image.json that agrees with the layout', async () => {
    const written = JSON.parse(await readFile(join(outputDir, 'image.json'), 'utf8')) as ImageSummary;
    expect(written).toEqual(summary);
    const { images } = await validateLayout(outputDir);
    expect(summary).toMatchObject({
      project: 'demo',
      arch,
      platform: platformString(PLATFORMS[arch].oci),
      engine: 'native',
      manifestDigest: images[0].descriptor.digest,
      configDigest: images[0].manifest.config.digest,
      layers: 1,
      tags: ['v1.2.3', 'edge'],
      layout: '.',
    });
    expect(summary.size).toBe(images[0].manifest.config.size + images[0].manifest.layers[0].size);
  });

  it('is read by skopeo and umoci, which see the same platform', async () => {
    const inspected = await skopeoInspect(outputDir, 'v1.2.3');
    expect(inspected.Architecture).toBe(PLATFORMS[arch].oci.architecture);
    expect(inspected.Os).toBe('linux');
    expect(inspected.Digest).toBe(summary.manifestDigest);
    const config = await skopeoInspect(outputDir, 'v1.2.3', true);
    expect(config.variant).toBe(PLATFORMS[arch].oci.variant);
    expect((await tool('umoci', ['ls', '--layout', outputDir])).trim()).toBe('v1.2.3');
    const stat = JSON.parse(await tool('umoci', ['stat', '--image', `${outputDir}:v1.2.3`, '--json'])) as { history: unknown[] };
    expect(stat.history.length).toBeGreaterThan(1);
  });
});

describe('reproducibility', () => {
  it('gives the same manifest digest from a copy of the workspace at another path', async () => {
    const first = await build(workspace, 'arm', { artifacts: ARTIFACTS });
    const copy = await copyWorkspace(workspace, 'scratch-copy');
    const second = await build(copy, 'arm', { artifacts: ARTIFACTS });
    expect(second.summary.manifestDigest).toBe(first.summary.manifestDigest);
    const third = await build(copy, 'arm', { artifacts: ARTIFACTS, sourceDateEpoch: EPOCH + 1 });
    expect(third.summary.manifestDigest).not.toBe(first.summary.manifestDigest);
  });

  it('leaves no scratch context behind', async () => {
    await build(workspace, 'amd64', { artifacts: ARTIFACTS });
    expect(await scratchLeftovers(workspace)).toEqual([]);
  });
});

describe('the layer cache', () => {
  it('a new label gives a new image around the same layer blob, taken from the layer cache instead of compressed again', async () => {
    const before = await build(workspace, 'arm64', { artifacts: ARTIFACTS });
    const lines: string[] = [];
    const relabelled = await build(workspace, 'arm64', { artifacts: ARTIFACTS, labels: { 'org.example.release': 'rc1' }, log: (line) => lines.push(line) });
    const layersOf = async (dir: string) => (await skopeoInspect(dir)).Layers;

    expect(relabelled.summary.manifestDigest).not.toBe(before.summary.manifestDigest);
    const layers = await layersOf(relabelled.outputDir);
    expect(layers).toHaveLength(1);
    expect(lines.filter((line) => line.includes('came from the layer cache'))).toEqual([
      expect.stringContaining(`its compressed blob ${(layers as string[])[0]} came from the layer cache`),
    ]);
    // The same blob a workspace without the cache compresses.
    const fresh = await build(await copyWorkspace(workspace, 'layer-cache-copy'), 'arm64', { artifacts: ARTIFACTS, labels: { 'org.example.release': 'rc1' } });
    expect(fresh.summary.manifestDigest).toBe(relabelled.summary.manifestDigest);
  });
});

describe('bad input leaves nothing in dist', () => {
  const out = (arch: string) => join(workspace, 'dist', 'images', 'demo', arch);

  /** Every file and folder under dist/images/demo, sorted. */
  const distTree = async () => ((await readdir(join(workspace, 'dist', 'images', 'demo'), { recursive: true })) as string[]).sort();

  /**
   * Builds a good image of the same arch first, so the test sees the failed
   * build remove that old output. An arch the plugin does not know has no
   * output to remove: then a good image of `staleArch` is built, and the
   * failure must leave dist/images/demo exactly as it was.
   */
  async function expectFailure(arch: string, extra: Parameters<typeof build>[2], message: RegExp, staleArch = arch): Promise<Error> {
    await build(workspace, staleArch, { artifacts: ARTIFACTS });
    expect(existsSync(out(staleArch))).toBe(true);
    const before = await distTree();
    const error = await build(workspace, arch, extra).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    if (staleArch === arch) expect(existsSync(out(arch))).toBe(false);
    else expect(await distTree()).toEqual(before);
    expect(await scratchLeftovers(workspace)).toEqual([]);
    return error as Error;
  }

  it('refuses an unknown arch and lists the supported ones', async () => {
    const error = await expectFailure('mips', { artifacts: ARTIFACTS }, /Unsupported arch "mips"/, 'arm64');
    expect((error as Error & { hint?: string }).hint).toContain('amd64, arm64, arm');
  });

  it('refuses a missing Dockerfile, naming it', async () => {
    await expectFailure('arm64', { dockerfile: 'packages/demo/Nope.Dockerfile' }, /Dockerfile not found: packages\/demo\/Nope\.Dockerfile/);
  });

  it('refuses a COPY source outside the context by ../', async () => {
    await writeFiles(workspace, { 'packages/demo/Escape.Dockerfile': 'FROM scratch\nCOPY ../../package.json /x\n' });
    await expectFailure('arm64', { dockerfile: 'packages/demo/Escape.Dockerfile' }, /COPY on line 2: source "\.\.\/\.\.\/package\.json" is outside the build context/);
  });

  it('refuses a COPY through a symlink pointing out of the context', async () => {
    await writeFile(join(workspace, 'outside.txt'), 'outside\n');
    if (!existsSync(join(workspace, 'packages/demo/link.txt'))) await symlink('../../outside.txt', join(workspace, 'packages/demo/link.txt'));
    await writeFiles(workspace, { 'packages/demo/Link.Dockerfile': 'FROM scratch\nCOPY link.txt /x\n' });
    await expectFailure('arm64', { dockerfile: 'packages/demo/Link.Dockerfile' }, /COPY on line 2: source "link\.txt" is a symlink to \.\.\/\.\.\/outside\.txt pointing outside the build context/);
  });

  it('refuses a binary of another arch (ELF check)', async () => {
    await mkdir(join(workspace, 'dist/cross/wrong/arm64'), { recursive: true });
    await writeFile(join(workspace, 'dist/cross/wrong/arm64/busybox'), binaries.amd64 as Buffer);
    await expectFailure('arm64', { artifacts: [{ from: 'dist/cross/wrong/{arch}', to: 'bin' }] }, /bin\/busybox \(COPY on line 7\) is an ELF binary for amd64, not arm64/);
  });

  it('refuses RUN in the native engine, naming the line and the ways out', async () => {
    await writeFiles(workspace, { 'packages/demo/Run.Dockerfile': 'FROM scratch\nCOPY conf/ /etc/\nRUN ["/bin/true"]\n' });
    const error = await expectFailure('arm64', { dockerfile: 'packages/demo/Run.Dockerfile' }, /line 3: RUN: RUN in a stage of the target platform runs target code.*: \/bin\/true is a program that would have to run/);
    expect((error as Error & { hint?: string }).hint).toMatch(/FROM --platform=\$BUILDPLATFORM.*allowEmulation: true.*engine "docker"/);
  });

  it('refuses a missing artifact, saying which target builds it', async () => {
    const error = await expectFailure('arm', { artifacts: [{ from: 'dist/cross/nothing/{arch}', to: 'bin' }] }, /Artifact dist\/cross\/nothing\/arm does not exist/);
    expect((error as Error & { hint?: string }).hint).toContain('nx run nothing:go-cross --arch=arm');
  });

  it('runs the binary it put in the image under qemu', async () => {
    const { outputDir } = await build(workspace, 'arm', { artifacts: ARTIFACTS });
    const files = await imageFiles(outputDir);
    const dir = await tempDir('qemu');
    await writeFile(join(dir, 'busybox'), files.get('bin/busybox')?.content as Buffer, { mode: 0o755 });
    expect((await tool('qemu-arm-static', [join(dir, 'busybox'), 'echo', 'from-the-image'])).trim()).toBe('from-the-image');
  });
});
