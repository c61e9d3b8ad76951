import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import manifestPush from '../../src/executors/manifest-push/executor';
import { ImageIndex, ImageManifest, MediaTypes } from '../../src/oci/types';
import { publishProject, PublishResult } from '../../src/publish/publish-project';
import type { ManifestPushOptions } from '../../src/publish/options';
import { RegistryClient } from '../../src/registry/client';
import { run } from '../../src/util/exec';
import { captureOutput, fakeExecutorContext } from '../support/executor-context';
import { expectValidOci } from '../support/oci-schemas';
import { RegistryServer, startRegistry } from '../support/registry-server';
import { writeTestImages } from '../support/test-images';

/**
 * manifest-push end to end: layouts in a temp workspace, a real docker-registry
 * on loopback (anonymous, http), and skopeo as the third-party reader.
 */
describe('manifest-push against docker-registry', () => {
  let registry: RegistryServer;
  let workspace: string;
  let reader: RegistryClient;
  const ARCHES = ['amd64', 'arm64', 'arm'] as const;

  const push = (project: string, options: ManifestPushOptions): Promise<PublishResult> =>
    publishProject({ options: { registry: registry.host, ...options }, project: { workspaceRoot: workspace, name: project, root: `packages/${project}` }, log: () => undefined });

  const runExecutor = (project: string, options: ManifestPushOptions) =>
    captureOutput(() => manifestPush({ registry: registry.host, ...options }, fakeExecutorContext(workspace, project, `packages/${project}`, 'manifest-push')));

  const skopeoRaw = async (reference: string): Promise<unknown> => {
    const result = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${reference}`]);
    if (result.exitCode !== 0) throw new Error(`skopeo failed: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = await mkdtemp(join(tmpdir(), 'nxm-push-ws-'));
    for (const project of ['web', 'controller', 'proxy']) {
      await mkdir(join(workspace, 'packages', project), { recursive: true });
      await writeTestImages(workspace, project, ARCHES);
    }
    await writeFile(join(workspace, 'packages', 'web', 'package.json'), JSON.stringify({ name: 'web', version: '2.14.1+build.7' }));
    await writeFile(join(workspace, 'packages', 'proxy', 'Cargo.toml'), '[package]\nname = "linkerd2-proxy"\nversion = "0.1.5"\n\n[dependencies]\nfoo = { version = "1" }\n');
    reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
  });
  afterAll(async () => {
    reader?.close();
    await registry?.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  it('pushes a 3-arch OCI index that skopeo reads with amd64, arm64 and arm/v7, tagged with the project version', async () => {
    const { result, output } = await runExecutor('web', {});
    expect(output).not.toMatch(/hint:/);
    expect(result).toEqual({ success: true });
    expect(output).toMatch(/Pushed .*\/web@sha256:[0-9a-f]{64} as 2\.14\.1_build\.7/);
    expect(output).toMatch(/read back and verified/);

    const index = (await skopeoRaw('web:2.14.1_build.7')) as ImageIndex;
    expect(index.mediaType).toBe(MediaTypes.ociIndex);
    expectValidOci('index', index, 'the pushed index');
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    // Each child is there by digest and is the image of its arch.
    for (const child of index.manifests) {
      const manifest = (await skopeoRaw(`web@${child.digest}`)) as ImageManifest;
      expect(manifest.mediaType).toBe(MediaTypes.ociManifest);
      expectValidOci('manifest', manifest, `the ${child.platform?.architecture} manifest`);
      const config = JSON.parse((await reader.getBlob('web', manifest.config.digest)).toString('utf8')) as { architecture: string; variant?: string };
      expect(config.architecture).toBe(child.platform?.architecture);
      expect(config.variant).toBe(child.platform?.variant);
    }
  });

  it('sends not one byte on a re-push: blobs, manifests and tags are all already there', async () => {
    const first = await push('controller', { tags: 'v1' });
    expect(first.report?.blobs).toMatchObject({ uploaded: 7, skipped: 0, mounted: 0 });
    expect(first.report?.blobs.bytesUploaded).toBe(first.plan.blobs.reduce((s, b) => s + b.size, 0));
    const again = await push('controller', { tags: 'v1' });
    expect(again.report?.blobs).toEqual({ uploaded: 0, mounted: 0, skipped: 7, bytesUploaded: 0 });
    expect(again.report?.bytesSent).toBe(0);
    expect(again.report).toMatchObject({ manifestsPushed: 0, manifestsUnchanged: 4 });
    expect(again.report?.indexDigest).toBe(first.report?.indexDigest);
  });

  it('lets two pushes of the same images run at once; both succeed with the same result', async () => {
    const [a, b] = await Promise.all([push('proxy', { tags: 'same' }), push('proxy', { tags: 'same' })]);
    expect(a.report?.indexDigest).toBe(b.report?.indexDigest);
    expect(a.report?.verified && b.report?.verified).toBe(true);
    expect((await reader.getManifest('proxy', 'same')).digest).toBe(a.report?.indexDigest);
    // Between them every blob went up at least once and none is missing.
    for (const blob of a.plan.blobs) expect(await reader.hasBlob('proxy', blob.digest)).toBe(true);
  });

  it('mounts the shared base layer from another repository instead of uploading it', async () => {
    await push('web', { repository: 'mount/source', tags: 'x' });
    const { report } = await push('controller', { repository: 'mount/target', tags: 'x', mountFrom: 'mount/source' });
    // One base layer is shared by every image; the app layers and configs differ per project.
    expect(report?.blobs).toMatchObject({ mounted: 1, uploaded: 6, skipped: 0 });
  });

  it('pushes a Docker manifest list of Docker manifests when asked, never mixing the two', async () => {
    const { report, plan } = await push('web', { repository: 'docker/web', tags: 'd1', mediaType: 'docker' });
    const list = (await skopeoRaw('docker/web:d1')) as ImageIndex;
    expect(list.mediaType).toBe(MediaTypes.dockerManifestList);
    expect(list.manifests.every((m) => m.mediaType === MediaTypes.dockerManifest)).toBe(true);
    const arm = list.manifests.find((m) => m.platform?.architecture === 'arm');
    expect(arm?.platform?.variant).toBe('v7');
    const manifest = (await skopeoRaw(`docker/web@${arm?.digest}`)) as ImageManifest;
    expect(manifest.config.mediaType).toBe(MediaTypes.dockerConfig);
    expect(manifest.layers.every((l) => l.mediaType === MediaTypes.dockerLayerGzip)).toBe(true);
    // Same blobs as the OCI push of the same images, different manifest digests.
    const oci = await push('web', { repository: 'docker/web', tags: 'o1', dryRun: true });
    expect(plan.blobs.map((b) => b.digest)).toEqual(oci.plan.blobs.map((b) => b.digest));
    expect(plan.manifests[0].digest).not.toBe(oci.plan.manifests[0].digest);
    expect(report?.verified).toBe(true);
  });

  it('adds <tag>-<arch> tags that point at each arch manifest', async () => {
    const { plan } = await push('web', { repository: 'perarch/web', tags: '1.0', perArchTags: true, arches: 'arm64,arm' });
    expect((await reader.getManifest('perarch/web', '1.0-arm64')).digest).toBe(plan.manifests[0].digest);
    expect((await reader.getManifest('perarch/web', '1.0-arm')).digest).toBe(plan.manifests[1].digest);
    expect((await reader.listTags('perarch/web')).sort()).toEqual(['1.0', '1.0-arm', '1.0-arm64']);
  });

  it('prints the plan on a dry run and sends nothing', async () => {
    const { result, output } = await runExecutor('proxy', { repository: 'dry/proxy', dryRun: true, annotations: { 'org.opencontainers.image.source': 'https://example.invalid/proxy' } });
    expect(result).toEqual({ success: true });
    expect(output).toMatch(/Push plan for 127\.0\.0\.1:\d+\/dry\/proxy \(OCI image index, 3 arches\)/);
    expect(output).toMatch(/blobs: 7, /);
    expect(output).toMatch(/arm\s+linux\/arm\/v7/);
    expect(output).toMatch(/as: 0\.1\.5/);
    expect(output).toMatch(/nothing was sent/);
    expect(await reader.listTags('dry/proxy')).toEqual([]);
  });

  describe('bad input gets a clear error and pushes nothing', () => {
    /** Every repository the registry holds, with its tags: what "pushes nothing" is checked against. */
    const contents = async (): Promise<Record<string, string[]>> => {
      const res = await fetch(`${registry.url}/v2/_catalog?n=1000`);
      expect(res.status).toBe(200);
      const { repositories } = (await res.json()) as { repositories: string[] };
      const out: Record<string, string[]> = {};
      for (const repository of repositories) out[repository] = (await reader.listTags(repository)).sort();
      return out;
    };

    const expectFailure = async (project: string, options: ManifestPushOptions, message: RegExp, hint: RegExp) => {
      const before = await contents();
      const { result, output } = await runExecutor(project, options);
      expect(result).toEqual({ success: false });
      expect(output).toMatch(message);
      expect(output).toMatch(hint);
      // Pushed nothing: no new repository, no new tag (distribution lists a repository once a blob is in it).
      expect(await contents()).toEqual(before);
    };

    it('a malformed registry reference', () =>
      expectFailure('web', { registry: 'bad host:5000/x' }, /Invalid registry host "bad host:5000"/, /hint: Give host\[:port\]/));
    it('a malformed repository prefix', () =>
      expectFailure('web', { registry: `${registry.host}/Bad_Prefix` }, /Invalid repository prefix/, /lower-case/));
    it('a tag over 128 characters', () => expectFailure('web', { tags: 'a'.repeat(129) }, /129 characters long; registries accept at most 128/, /hint: Shorten the tag/));
    it('an unknown arch', () => expectFailure('web', { arches: 'amd64,sparc' }, /Unsupported arch "sparc"/, /hint: Use one of: amd64, arm64, arm/));
    it('a missing layout, with the command that builds it', async () => {
      await expectFailure('web', { arches: 'amd64,s390x', repository: 'missing/web' }, /No s390x image of web/, /nx run web:docker-arch-build --arch=s390x/);
      expect(await reader.listTags('missing/web')).toEqual([]);
    });
    it('(negative control: the registry check sees a push that did happen)', async () => {
      const before = await contents();
      await push('web', { repository: 'control/web', tags: 'seen' });
      expect(await contents()).not.toEqual(before);
      expect((await contents())['control/web']).toEqual(['seen']);
    });
    it('no registry at all', () =>
      expectFailure('web', { registry: undefined }, /No registry to push web to/, /--registry=host\[:port\]\[\/prefix\].*NX_MULTIARCH_REGISTRY/));
  });
});
