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
