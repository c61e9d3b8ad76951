import { createTar, readTar, completeAndSort, normalizeEntryPath } from './tar';
import { gzipDeterministic, gunzip } from './gzip';
import { sha256Digest } from './digest';

describe('deterministic tar', () => {
  const entries = [
    { path: 'usr/lib/linkerd/linkerd2-proxy', type: 'file' as const, mode: 0o755, content: Buffer.from('binary') },
    { path: 'etc/hosts', type: 'file' as const, content: Buffer.from('127.0.0.1 localhost\n') },
    { path: 'bin/sh', type: 'symlink' as const, linkTarget: '/bin/busybox' },
  ];

  it('gives the same bytes for the same entries in any order', async () => {
    const a = await createTar(entries, { mtime: 1700000000 });
    const b = await createTar([...entries].reverse(), { mtime: 1700000000 });
    expect(sha256Digest(a)).toBe(sha256Digest(b));
  });

  it('changes when the mtime changes', async () => {
    const a = await createTar(entries, { mtime: 0 });
    const b = await createTar(entries, { mtime: 1 });
    expect(sha256Digest(a)).not.toBe(sha256Digest(b));
  });

  it('adds parent folders, sorts, and round-trips contents and modes', async () => {
    const read = await readTar(await createTar(entries, { mtime: 0 }));
    expect(read.map((e) => e.path)).toEqual([
      'bin',
      'bin/sh',
      'etc',
      'etc/hosts',
      'usr',
      'usr/lib',
      'usr/lib/linkerd',
      'usr/lib/linkerd/linkerd2-proxy',
    ]);
    const proxy = read.find((e) => e.path === 'usr/lib/linkerd/linkerd2-proxy');
    expect(proxy?.content?.toString()).toBe('binary');
    expect(proxy?.mode).toBe(0o755);
    expect(read.find((e) => e.path === 'bin/sh')?.linkTarget).toBe('/bin/busybox');
  });

  it('keeps paths longer than 100 characters', async () => {
    const long = `${'a'.repeat(120)}/${'b'.repeat(120)}`;
    const read = await readTar(await createTar([{ path: long, type: 'file', content: Buffer.from('x') }], { mtime: 0 }));
    expect(read.map((e) => e.path)).toContain(long);
  });

  it('refuses paths that climb out of the root', () => {
    expect(() => normalizeEntryPath('../etc/passwd')).toThrow(/outside the archive root/);
    expect(completeAndSort([{ path: '/abs/x', type: 'file' }]).map((e) => e.path)).toEqual(['abs', 'abs/x']);
  });
});

describe('deterministic gzip', () => {
  it('is stable and round-trips', () => {
    const data = Buffer.from('hello '.repeat(1000));
    const a = gzipDeterministic(data);
    expect(gzipDeterministic(data).equals(a)).toBe(true);
    // gzip header: magic, method 8, mtime bytes 4..7 all zero
    expect([...a.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
    expect(a.readUInt32LE(4)).toBe(0);
    expect(gunzip(a).equals(data)).toBe(true);
  });
});

describe('readTar options', () => {
  /** A tar as another tool may write it: a hard link, a device, and (optionally) a path that climbs out. */
  async function foreignTar(climbing: boolean): Promise<Buffer> {
    const tarStream = await import('tar-stream');
    const pack = tarStream.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
    pack.entry({ name: './bin/busybox', mode: 0o755 }, Buffer.from('elf'));
    pack.entry({ name: 'bin/sh', type: 'link', linkname: './bin/busybox' });
    pack.entry({ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 });
    if (climbing) pack.entry({ name: '../etc/passwd' }, Buffer.from('x'));
    pack.finalize();
    await done;
    return Buffer.concat(chunks);
  }

  it('skips hard links and devices unless hard links are asked for', async () => {
    const tar = await foreignTar(false);
    expect((await readTar(tar)).map((e) => [e.path, e.type])).toEqual([['bin/busybox', 'file']]);
    expect((await readTar(tar, { hardLinks: true })).map((e) => [e.path, e.type, e.linkTarget])).toEqual([
      ['bin/busybox', 'file', undefined],
      ['bin/sh', 'hardlink', 'bin/busybox'],
    ]);
  });

  it('refuses a path that climbs out of the root, unless told to keep it', async () => {
    const tar = await foreignTar(true);
    await expect(readTar(tar)).rejects.toThrow('Archive entry "../etc/passwd" points outside the archive root.');
    expect((await readTar(tar, { refuseClimbing: false })).map((e) => e.path)).toContain('../etc/passwd');
  });

  it('writes hard links that read back as hard links', async () => {
    const tar = await createTar(
      [
        { path: 'a', type: 'file', content: Buffer.from('x') },
        { path: 'b', type: 'hardlink', linkTarget: 'a' },
      ],
      { mtime: 0 },
    );
    expect((await readTar(tar, { hardLinks: true })).map((e) => [e.path, e.type, e.linkTarget])).toEqual([
      ['a', 'file', undefined],
      ['b', 'hardlink', 'a'],
    ]);
  });
});
