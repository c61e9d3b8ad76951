import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, readTar } from '../../oci/tar';
import { OciLayoutWriter } from '../../oci/layout';
import { MediaTypes, type ImageConfig, type ImageManifest } from '../../oci/types';
import type { ResolvedImage } from '../types';
import { dockerArchive } from './docker-archive';
import { dockerRunArgs, engineHostAddress } from './docker';

describe('docker archive of an OCI layout', () => {
  let scratch: string;
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it("holds Docker's manifest.json pointing at this image's blobs only", async () => {
    scratch = await mkdtemp(join(tmpdir(), 'docker-archive-'));
    const writer = new OciLayoutWriter(scratch);
    await writer.init();
    const other = await writer.writeBlob(Buffer.from('another image'), MediaTypes.ociLayerTar);
    const layer = await writer.writeBlob(await createTar([{ path: 'a', type: 'file', content: Buffer.from('a') }], { mtime: 0 }), MediaTypes.ociLayerTar);
    const config: ImageConfig = { architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } };
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [layer] };
    const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    const image: ResolvedImage = { layoutDir: scratch, manifestDigest: manifestDescriptor.digest, manifest, config };

    const entries = await readTar(await dockerArchive(image, 'nx-multiarch-test/arm64:abc'));
    const names = entries.filter((e) => e.type === 'file').map((e) => e.path);
    expect(names).toContain('manifest.json');
    expect(names).toContain('index.json');
    expect(names).toContain('oci-layout');
    expect(names).not.toContain(`blobs/sha256/${other.digest.slice(7)}`);
    const dockerManifest = JSON.parse(entries.find((e) => e.path === 'manifest.json')?.content?.toString() ?? '[]');
    expect(dockerManifest).toEqual([
      { Config: `blobs/sha256/${configDescriptor.digest.slice(7)}`, RepoTags: ['nx-multiarch-test/arm64:abc'], Layers: [`blobs/sha256/${layer.digest.slice(7)}`] },
    ]);
    for (const path of [dockerManifest[0].Config, ...dockerManifest[0].Layers]) expect(names).toContain(path);
  });
});

describe('docker run arguments', () => {
  it('passes the whole argv through --entrypoint, the env, workdir, platform and host network', () => {
    expect(
      dockerRunArgs('c1', 'img:tag', 'linux/arm/v7', { argv: ['/proxy', '--flag'], env: ['A=1', 'PATH=/bin'], workdir: '/w', stopSignal: 'SIGTERM' }),
    ).toEqual(['run', '--rm', '--name', 'c1', '--platform', 'linux/arm/v7', '--network', 'host', '--workdir', '/w', '--entrypoint', '/proxy', '--env', 'A=1', '--env', 'PATH=/bin', 'img:tag', '--flag']);
  });

  it('reaches a remote engine’s host-network listeners at its host name', () => {
    expect(engineHostAddress(undefined)).toBe('127.0.0.1');
    expect(engineHostAddress('unix:///run/docker.sock')).toBe('127.0.0.1');
    expect(engineHostAddress('tcp://10.0.0.7:2376')).toBe('10.0.0.7');
    expect(engineHostAddress('ssh://ci@arm64-box')).toBe('arm64-box');
    expect(engineHostAddress('tcp://[fd00::7]:2376')).toBe('fd00::7');
    expect(() => engineHostAddress('arm64-box:2376')).toThrow('Docker host "arm64-box:2376" is not a DOCKER_HOST URL.');
  });
});
