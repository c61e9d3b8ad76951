import { mkdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, type ArchiveEntry } from '../../../src/oci/tar';
import { gzipDeterministic } from '../../../src/oci/gzip';
import { OciLayoutWriter } from '../../../src/oci/layout';
import { MediaTypes, toPlatform, type Digest, type ImageConfig, type ImageConfigBody, type ImageManifest } from '../../../src/oci/types';
import { sha256Digest } from '../../../src/oci/digest';
import { PLATFORMS, type Arch } from '../../../src/platform/platforms';
import { runChecked } from '../../../src/util/exec';

/**
 * Test images made the way docker-arch-build makes them (OCI layout, gzip
 * layers, platform in config and index), around a small Go HTTP server
 * (fixtures/testserver) cross-compiled for each arch by the test itself.
 */
const FIXTURE = join(__dirname, '..', 'fixtures', 'testserver');
const BUILD_DIR = join(tmpdir(), 'nx-multiarch-testserver');

/** Cross-compiles the test server for an arch (static, CGO off, GOARM=7 for arm); cached per arch in the temp folder. */
export async function buildTestServer(arch: Arch): Promise<string> {
  const out = join(BUILD_DIR, `testserver-${arch}`);
  await mkdir(BUILD_DIR, { recursive: true });
  await runChecked('go', ['build', '-trimpath', '-ldflags', '-s -w -buildid=', '-o', out, '.'], {
    cwd: FIXTURE,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', ...PLATFORMS[arch].goEnv, GOFLAGS: '-mod=mod' },
    what: `go build of the test server for ${arch}`,
  });
  return out;
}

export interface TestImageSpec {
  /** The platform written into the config and index. */
  arch: Arch;
  /** Layers, lowest first. */
  layers: ArchiveEntry[][];
  config: ImageConfigBody;
}

export interface TestImage {
  dir: string;
  manifestDigest: Digest;
}

export async function writeTestImage(dir: string, spec: TestImageSpec): Promise<TestImage> {
  const writer = new OciLayoutWriter(dir);
  await writer.init();
  const layers = [];
  const diffIds: Digest[] = [];
  for (const entries of spec.layers) {
    const tar = await createTar(entries, { mtime: 0 });
    diffIds.push(sha256Digest(tar));
    layers.push(await writer.writeBlob(gzipDeterministic(tar), MediaTypes.ociLayerGzip));
  }
  const platform = toPlatform(PLATFORMS[spec.arch].oci);
  const config: ImageConfig = { ...platform, config: spec.config, rootfs: { type: 'layers', diff_ids: diffIds } };
  const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers };
  const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
  await writer.writeIndex([{ ...manifestDescriptor, platform }]);
  return { dir, manifestDigest: manifestDescriptor.digest };
}

/**
 * The standard test image: the server at /bin/testserver, an image Env, a
 * WorkingDir, a Cmd with the listen address, and a second layer that deletes
 * a file and empties a folder of the first (whiteouts).
 */
export async function testServerImage(dir: string, imageArch: Arch, binaryArch: Arch = imageArch): Promise<TestImage> {
  const binary = await readFile(await buildTestServer(binaryArch));
  return writeTestImage(dir, {
    arch: imageArch,
    layers: [
      [
        { path: 'bin/testserver', type: 'file', mode: 0o755, content: binary },
        { path: 'etc/message', type: 'file', content: Buffer.from('from the lower layer\n') },
        { path: 'etc/removed', type: 'file', content: Buffer.from('deleted by the upper layer\n') },
        { path: 'data/old', type: 'file', content: Buffer.from('hidden by an opaque whiteout\n') },
      ],
      [
        { path: 'etc/.wh.removed', type: 'file', content: Buffer.alloc(0) },
        { path: 'data/.wh..wh..opq', type: 'file', content: Buffer.alloc(0) },
        { path: 'data/new', type: 'file', content: Buffer.from('from the upper layer\n') },
        { path: 'etc/message', type: 'file', content: Buffer.from('from the upper layer\n') },
        { path: 'usr/bin/server', type: 'symlink', linkTarget: '/bin/testserver' },
      ],
    ],
    config: {
      Entrypoint: ['/bin/testserver'],
      Cmd: ['--listen', '127.0.0.1:1'],
      Env: ['PATH=/usr/bin:/bin', 'GREETING=from-image', 'MODE=image'],
      WorkingDir: '/work',
    },
  });
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
