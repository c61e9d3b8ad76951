import * as tarStream from 'tar-stream';
import { PLATFORMS } from '../../platform/platforms';
import { readTarEntries as readLayerEntries, writeTarEntries as writeLayerEntries } from '../../oci/tar';
import { checkLayerElfFiles, clampLayerTimes } from './layer-check';

const EPOCH = 1700000000;
const LATER = new Date((EPOCH + 86400) * 1000);
const EARLIER = new Date((EPOCH - 86400) * 1000);

/** A layer as a daemon writes one: owners, a hard link, a sticky folder, an xattr, mixed times. */
async function daemonStyleLayer(mtime: Date): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  const common = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
  pack.entry({ ...common, name: 'tmp/', type: 'directory', mode: 0o1777, mtime });
  pack.entry({ ...common, name: 'usr/bin/app', type: 'file', mode: 0o4755, mtime, uid: 1000, gid: 1001, uname: 'app', gname: 'app', pax: { 'SCHILY.xattr.user.note': 'kept' } }, Buffer.from('program'));
  pack.entry({ ...common, name: 'usr/bin/app-link', type: 'link', linkname: 'usr/bin/app', mtime });
  pack.entry({ ...common, name: 'usr/bin/sh', type: 'symlink', linkname: 'busybox', mtime });
  pack.entry({ ...common, name: 'etc/old', type: 'file', mode: 0o644, mtime: EARLIER }, Buffer.from('from the base'));
  pack.entry({ ...common, name: `deep/${'x'.repeat(120)}/file`, type: 'file', mode: 0o600, mtime }, Buffer.from('long'));
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe('clampLayerTimes', () => {
  it('clamps times after SOURCE_DATE_EPOCH and keeps every other header field', async () => {
    const { tar, clamped } = await clampLayerTimes(await daemonStyleLayer(LATER), EPOCH);
    expect(clamped).toBe(5);
    const entries = await readLayerEntries(tar);
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    for (const { header } of entries) expect(header.mtime.getTime()).toBeLessThanOrEqual(EPOCH * 1000);
    expect(byName.get('etc/old')?.header.mtime.getTime()).toBe(EARLIER.getTime());
    const app = byName.get('usr/bin/app')?.header;
    expect(app).toMatchObject({ uid: 1000, gid: 1001, uname: 'app', gname: 'app', mode: 0o4755 });
    expect((app?.pax as Record<string, string>)['SCHILY.xattr.user.note']).toBe('kept');
    expect(byName.get('usr/bin/app')?.content.toString()).toBe('program');
    expect(byName.get('usr/bin/app-link')?.header).toMatchObject({ type: 'link', linkname: 'usr/bin/app' });
    expect(byName.get('usr/bin/sh')?.header).toMatchObject({ type: 'symlink', linkname: 'busybox' });
    expect(byName.get('tmp/')?.header).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(entries.map((e) => e.header.name)).toContain(`deep/${'x'.repeat(120)}/file`);
    // Order is kept: the hard link stays after its target.
    expect(entries.map((e) => e.header.name).indexOf('usr/bin/app-link')).toBeGreaterThan(entries.map((e) => e.header.name).indexOf('usr/bin/app'));
  });

  it('gives the same bytes for layers that differ only in times after the epoch', async () => {
    const a = await clampLayerTimes(await daemonStyleLayer(LATER), EPOCH);
    const b = await clampLayerTimes(await daemonStyleLayer(new Date((EPOCH + 999999) * 1000)), EPOCH);
    expect(b.tar.equals(a.tar)).toBe(true);
  });

  it('hands back the very same bytes when nothing is newer than the epoch (a base layer keeps its diff_id)', async () => {
    const base = await daemonStyleLayer(EARLIER);
    const { tar, clamped } = await clampLayerTimes(base, EPOCH);
    expect(clamped).toBe(0);
    expect(tar).toBe(base);
  });

  it('round-trips a layer through read and write', async () => {
    const layer = await daemonStyleLayer(EARLIER);
    const again = await writeLayerEntries(await readLayerEntries(layer));
    expect((await readLayerEntries(again)).map((e) => [e.header.name, e.header.type, e.header.mode, e.content.toString()])).toEqual(
      (await readLayerEntries(layer)).map((e) => [e.header.name, e.header.type, e.header.mode, e.content.toString()]),
    );
  });
});

describe('checkLayerElfFiles', () => {
  async function layerWith(content: Buffer): Promise<Buffer> {
    return writeLayerEntries([
      { header: { name: 'bin/tool', type: 'file', mode: 0o755, mtime: EARLIER, size: content.length, uid: 0, gid: 0, uname: '', gname: '', linkname: '', devmajor: 0, devminor: 0 }, content },
      { header: { name: 'etc/motd', type: 'file', mode: 0o644, mtime: EARLIER, size: 3, uid: 0, gid: 0, uname: '', gname: '', linkname: '', devmajor: 0, devminor: 0 }, content: Buffer.from('hi\n') },
    ]);
  }

  /** The identifying start of an x86-64 ELF header. */
  const amd64Elf = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(amd64Elf);
  amd64Elf.writeUInt16LE(62, 18);

  it('counts ELF files of the right arch and ignores other files', async () => {
    expect(await checkLayerElfFiles(await layerWith(amd64Elf), PLATFORMS.amd64, 'layer 1 of 1')).toBe(1);
  });

  it('refuses an ELF file of another arch, naming the file and the layer', async () => {
    await expect(checkLayerElfFiles(await layerWith(amd64Elf), PLATFORMS.arm64, 'layer 2 of 3')).rejects.toThrow(
      '/bin/tool (in layer 2 of 3) is an ELF binary for amd64, not arm64.',
    );
  });
});
