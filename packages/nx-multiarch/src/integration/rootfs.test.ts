import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tarStream from 'tar-stream';
import { createTar, readTar } from '../oci/tar';
import { gzipDeterministic } from '../oci/gzip';
import { OciLayoutWriter } from '../oci/layout';
import { sha256Digest } from '../oci/digest';
import { MediaTypes, type ImageConfig, type ImageManifest } from '../oci/types';
import { applyLayer, unpackRootfs } from './rootfs';
import { resolveInRoot } from './root-path';
import type { ResolvedImage } from './types';

/** A layer's entries as the rootfs unpacker reads them: hard links kept, climbing paths refused. */
const readLayer = (tar: Buffer) => readTar(tar, { hardLinks: true });

let root: string;
let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'rootfs-test-'));
  root = join(scratch, 'root');
  await mkdir(root);
});

afterEach(() => rm(scratch, { recursive: true, force: true }));

/** A raw tar (tar-stream directly), for entries createTar would never write: hard links, setuid bits, climbing paths. */
async function rawTar(entries: Array<Partial<tarStream.Header> & { name: string; content?: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => pack.on("end", () => resolve()));
  for (const { content, ...header } of entries) pack.entry(header, content ?? '');
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

describe('applyLayer', () => {
  it('applies whiteouts to lower layers only, and an opaque folder keeps its new content', async () => {
    await applyLayer(root, await readLayer(await createTar([
      { path: 'etc/a', type: 'file', content: Buffer.from('a') },
      { path: 'etc/b', type: 'file', content: Buffer.from('b') },
      { path: 'var/lib/x', type: 'file', content: Buffer.from('x') },
      { path: 'var/lib/sub/y', type: 'file', content: Buffer.from('y') },
    ], { mtime: 0 })));
    await applyLayer(root, await readLayer(await createTar([
      { path: 'etc/.wh.a', type: 'file' },
      { path: 'var/lib/.wh..wh..opq', type: 'file' },
      { path: 'var/lib/z', type: 'file', content: Buffer.from('z') },
    ], { mtime: 0 })));
    await expect(stat(join(root, 'etc/a'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(root, 'etc/b'), 'utf8')).toBe('b');
    await expect(stat(join(root, 'var/lib/x'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(root, 'var/lib/sub'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(root, 'var/lib/z'), 'utf8')).toBe('z');
    // Whiteout markers themselves never appear in the root.
    await expect(stat(join(root, 'etc/.wh.a'))).rejects.toThrow(/ENOENT/);
  });

  it('replaces a file by a folder and a folder by a symlink across layers', async () => {
    await applyLayer(root, await readLayer(await createTar([
      { path: 'opt/app', type: 'file', content: Buffer.from('file') },
      { path: 'lib/old/so', type: 'file', content: Buffer.from('so') },
    ], { mtime: 0 })));
    await applyLayer(root, await readLayer(await createTar([
      { path: 'opt/app/bin', type: 'file', content: Buffer.from('bin') },
      { path: 'lib/old', type: 'symlink', linkTarget: '/usr/lib' },
    ], { mtime: 0 })));
    expect(await readFile(join(root, 'opt/app/bin'), 'utf8')).toBe('bin');
    expect(await readlink(join(root, 'lib/old'))).toBe('/usr/lib');
  });

  it('keeps writes inside the root when a layer writes through a symlink that points out of it', async () => {
    const outside = join(scratch, 'outside');
    await mkdir(outside);
    await applyLayer(root, await readLayer(await createTar([
      { path: 'escape', type: 'symlink', linkTarget: outside },
      { path: 'up', type: 'symlink', linkTarget: '../../..' },
    ], { mtime: 0 })));
    await applyLayer(root, await readLayer(await rawTar([
      { name: 'escape/planted', type: 'file', content: 'x', mode: 0o644 },
      { name: 'up/planted2', type: 'file', content: 'y', mode: 0o644 },
    ])));
    await expect(stat(join(outside, 'planted'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(scratch, 'planted2'))).rejects.toThrow(/ENOENT/);
    // Absolute links resolve at the image root, `..` stops there.
    expect(await readFile(join(root, outside, 'planted'), 'utf8')).toBe('x');
    expect(await readFile(join(root, 'planted2'), 'utf8')).toBe('y');
  });

  it('never lets a whiteout or opaque marker remove what its own layer wrote (a stream cannot look ahead)', async () => {
    await applyLayer(root, await readLayer(await createTar([{ path: 'opt/old', type: 'file', content: Buffer.from('old') }], { mtime: 0 })));
    // Archive order: the content comes before the markers that would otherwise hide it.
    await applyLayer(root, await readLayer(await rawTar([
      { name: 'opt/-new', type: 'file', content: 'new' },
      { name: 'opt/.wh..wh..opq', type: 'file' },
      { name: 'etc/app', type: 'file', content: 'app' },
      { name: 'etc/.wh.app', type: 'file' },
    ])));
    expect(await readFile(join(root, 'opt/-new'), 'utf8')).toBe('new');
    await expect(stat(join(root, 'opt/old'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(root, 'etc/app'), 'utf8')).toBe('app');
  });

  it('refuses entries that climb out of the root', async () => {
    await expect(readLayer(await rawTar([{ name: '../evil', type: 'file', content: 'x' }]))).rejects.toThrow(/points outside the archive root/);
  });

  it('makes hard links, and drops setuid and setgid bits', async () => {
    await applyLayer(root, await readLayer(await rawTar([
      { name: 'bin/busybox', type: 'file', content: 'bb', mode: 0o4755 },
      { name: 'bin/sh', type: 'link', linkname: 'bin/busybox' },
    ])));
    expect(await readFile(join(root, 'bin/sh'), 'utf8')).toBe('bb');
    expect((await stat(join(root, 'bin/busybox'))).mode & 0o7777).toBe(0o755);
  });
});

describe('resolveInRoot', () => {
  it('follows absolute and relative links inside the root, and stops at a loop', async () => {
    await mkdir(join(root, 'bin'));
    await writeFile(join(root, 'bin/busybox'), 'bb');
    await symlink('/bin/busybox', join(root, 'bin/sh'));
    await symlink('busybox', join(root, 'bin/ash'));
    await symlink('/loop2', join(root, 'loop1'));
    await symlink('/loop1', join(root, 'loop2'));
    expect(resolveInRoot(root, '/bin/sh', true)).toBe(join(root, 'bin/busybox'));
    expect(resolveInRoot(root, '/bin/ash', true)).toBe(join(root, 'bin/busybox'));
    expect(resolveInRoot(root, '/bin/sh', false)).toBe(join(root, 'bin/sh'));
    expect(resolveInRoot(root, '/../../bin/./sh', true)).toBe(join(root, 'bin/busybox'));
    expect(() => resolveInRoot(root, '/loop1', true)).toThrow(/Too many levels of symbolic links/);
    expect((await lstat(join(root, 'bin/sh'))).isSymbolicLink()).toBe(true);
  });
});

describe('unpackRootfs', () => {
  async function image(tampered: boolean): Promise<ResolvedImage> {
    const layoutDir = join(scratch, 'layout');
    const writer = new OciLayoutWriter(layoutDir);
    await writer.init();
    const tar = await createTar([{ path: 'hello', type: 'file', content: Buffer.from('hi') }], { mtime: 0 });
    const layer = await writer.writeBlob(gzipDeterministic(tar), MediaTypes.ociLayerGzip);
    const config: ImageConfig = { architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [tampered ? sha256Digest('other') : sha256Digest(tar)] } };
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: [layer] };
    const descriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    return { layoutDir, manifestDigest: descriptor.digest, manifest, config };
  }

  it('unpacks the layers of an image', async () => {
    await unpackRootfs(await image(false), join(scratch, 'unpacked'));
    expect(await readFile(join(scratch, 'unpacked/hello'), 'utf8')).toBe('hi');
  });

  it("refuses a layer that does not match the config's diff_id", async () => {
    await expect(unpackRootfs(await image(true), join(scratch, 'unpacked'))).rejects.toThrow(/does not match the config's diff_id/);
  });

  it('refuses zstd layers with the alternative', async () => {
    const img = await image(false);
    img.manifest.layers[0] = { ...img.manifest.layers[0], mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
    await expect(unpackRootfs(img, join(scratch, 'unpacked'))).rejects.toThrow(/zstd-compressed/);
  });
});
