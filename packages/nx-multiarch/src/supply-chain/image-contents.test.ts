import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statFileSource } from '../oci/file-source';
import { writeLayer, type LayerEntry } from '../oci/layer';
import { OciLayoutWriter } from '../oci/layout';
import { MediaTypes } from '../oci/types';
import { ELF_IN_MEMORY_BYTES, readImageContents } from './image-contents';
import { ELF_MAGIC } from './go-modules';
import { inlineBuildInfo, POINTER_BUILD_INFO } from './__fixtures__/go-buildinfo';

/** An ELF-looking file: the magic, zeros, and markers at the given offsets. */
function elf(size: number, markers: Array<[number, Buffer]>): Buffer {
  const bytes = Buffer.alloc(size);
  ELF_MAGIC.copy(bytes, 0);
  for (const [at, marker] of markers) marker.copy(bytes, at);
  return bytes;
}

const RUSTC = Buffer.from('rustc version 1.91.1 (ed61e7d7e 2025-11-07)\0', 'latin1');

const MOD_INFO = 'path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\ndep\tgolang.org/x/sys\tv0.38.0\th1:abc=\n';

describe('image contents for the SBOM, read as streams', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-image-contents-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A layout whose image has these layers, in order. */
  async function layout(name: string, layers: LayerEntry[][]): Promise<string> {
    const writer = new OciLayoutWriter(join(dir, name));
    await writer.init();
    const written = [];
    for (const entries of layers) written.push(await writeLayer(entries, { mtime: 0, includeParents: true }, writer));
    const config = await writer.writeJsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: written.map((l) => l.diffId) } }, MediaTypes.ociConfig);
    const manifest = await writer.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: written.map((l) => l.descriptor) }, MediaTypes.ociManifest);
    await writer.writeIndex([manifest]);
    return writer.dir;
  }

  it('keeps only what the SBOM reads: dpkg text, rustc versions, Go build info from the bytes (big binaries through disk), old Go binaries copied out, after whiteouts', async () => {
    // Past the in-memory limit, with the rustc marker across a 1 MiB read boundary and the Go header near the end.
    const bigGoPath = join(dir, 'big-go');
    const bigGo = elf(ELF_IN_MEMORY_BYTES + 5 * 1024 * 1024, [[3 * 1024 * 1024 - 10, RUSTC], [ELF_IN_MEMORY_BYTES + 4 * 1024 * 1024, inlineBuildInfo('go1.26.8', MOD_INFO)]]);
    await writeFile(bigGoPath, bigGo);
    // The same size with a pre-1.18 header, after an unaligned copy of the magic that Go's search skips.
    const oldGoPath = join(dir, 'old-go');
    const oldGo = elf(ELF_IN_MEMORY_BYTES + 1024 * 1024, [[1000, inlineBuildInfo('go1.99', 'path\tfake\n')], [ELF_IN_MEMORY_BYTES + 512 * 1024, POINTER_BUILD_INFO]]);
    await writeFile(oldGoPath, oldGo);
    const bigData = join(dir, 'data.bin');
    await writeFile(bigData, Buffer.alloc(48 * 1024 * 1024, 7));
    const image = await layout('image', [
      [
        { path: 'usr/bin/big-go', type: 'file', source: await statFileSource(bigGoPath) },
        { path: 'usr/bin/old-go', type: 'file', source: await statFileSource(oldGoPath) },
        { path: 'usr/bin/small-go', type: 'file', content: elf(4096, [[96, inlineBuildInfo('go1.26.8', MOD_INFO)]]) },
        { path: 'usr/bin/small-old-go', type: 'file', content: elf(4096, [[112, POINTER_BUILD_INFO]]) },
        { path: 'usr/bin/not-go', type: 'file', content: elf(4096, [[100, POINTER_BUILD_INFO]]) },
        { path: 'usr/bin/proxy', type: 'file', content: elf(8192, [[5000, RUSTC]]) },
        { path: 'usr/bin/gone-go', type: 'file', content: elf(4096, [[64, inlineBuildInfo('go1.26.8', MOD_INFO)]]) },
        { path: 'var/lib/dpkg/status', type: 'file', content: Buffer.from('Package: base-files\nVersion: 12.4\n\n') },
        { path: 'srv/data.bin', type: 'file', source: await statFileSource(bigData) },
        { path: 'etc/motd', type: 'file', content: Buffer.from('hi\n') },
      ],
      [{ path: 'usr/bin/.wh.gone-go', type: 'file', content: Buffer.alloc(0) }],
    ]);

    const contents = await readImageContents(image);
    try {
      expect([...contents.files.keys()].sort()).toEqual(['usr/bin/big-go', 'usr/bin/old-go', 'usr/bin/proxy', 'usr/bin/small-go', 'usr/bin/small-old-go', 'var/lib/dpkg/status']);
      const big = contents.files.get('usr/bin/big-go');
      expect(big).toEqual({ rustcVersion: '1.91.1 (ed61e7d7e 2025-11-07)', goBuildInfo: { goVersion: 'go1.26.8', modInfo: MOD_INFO } });
      expect(contents.files.get('usr/bin/small-go')).toEqual({ goBuildInfo: { goVersion: 'go1.26.8', modInfo: MOD_INFO } });
      const old = contents.files.get('usr/bin/old-go');
      expect(statSync(old?.goBinary as string).size).toBe(oldGo.length);
      expect((await readFile(old?.goBinary as string)).equals(oldGo)).toBe(true);
      expect((await readFile(contents.files.get('usr/bin/small-old-go')?.goBinary as string)).length).toBe(4096);
      expect(contents.files.get('usr/bin/proxy')).toEqual({ rustcVersion: '1.91.1 (ed61e7d7e 2025-11-07)' });
      expect(contents.files.get('var/lib/dpkg/status')?.dpkgStatus).toContain('Package: base-files');
    } finally {
      await contents.dispose();
    }
    expect(existsSync(contents.files.get('usr/bin/old-go')?.goBinary as string)).toBe(false);
  }, 120_000);

  it('names a layer it cannot open', async () => {
    const writer = new OciLayoutWriter(join(dir, 'zstd'));
    await writer.init();
    const layer = await writer.writeBlob(Buffer.from('not a layer'), 'application/vnd.oci.image.layer.v1.tar+zstd');
    const config = await writer.writeJsonBlob({ rootfs: { type: 'layers', diff_ids: [] } }, MediaTypes.ociConfig);
    const manifest = await writer.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [layer] }, MediaTypes.ociManifest);
    await writer.writeIndex([manifest]);
    await expect(readImageContents(writer.dir)).rejects.toThrow(/tar\+zstd, which the SBOM reader cannot open/);
  });
});
