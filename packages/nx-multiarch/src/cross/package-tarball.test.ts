import { createHash } from 'node:crypto';
import { gunzip } from '../oci/gzip';
import { readTar } from '../oci/tar';
import { createReleasePackage, packageStem } from './package-tarball';

const input = {
  name: 'linkerd2-proxy',
  version: '2.1.0',
  arch: 'arm64',
  license: Buffer.from('license text\n'),
  binaries: [{ name: 'linkerd2-proxy', content: Buffer.from('\x7fELF pretend binary') }],
  mtime: 1700000000,
};

describe('release package', () => {
  it('is named and laid out like Linkerd’s proxy package', async () => {
    const pkg = await createReleasePackage(input);
    expect(pkg.tarballName).toBe('linkerd2-proxy-v2.1.0-linux-arm64.tar.gz');
    expect(pkg.checksumName).toBe('linkerd2-proxy-v2.1.0-linux-arm64.txt');
    const entries = await readTar(gunzip(pkg.tarball));
    expect(entries.map((e) => [e.path, e.type, e.mode])).toEqual([
      ['linkerd2-proxy-v2.1.0-linux-arm64', 'directory', 0o755],
      ['linkerd2-proxy-v2.1.0-linux-arm64/LICENSE', 'file', 0o644],
      ['linkerd2-proxy-v2.1.0-linux-arm64/linkerd2-proxy', 'file', 0o755],
    ]);
    expect(entries[2].content?.toString()).toBe('\x7fELF pretend binary');
  });

  it('writes a checksum file whose first field is the tarball’s sha256', async () => {
    const pkg = await createReleasePackage(input);
    const [hex, name] = pkg.checksum.trimEnd().split(/\s+/);
    expect(hex).toBe(createHash('sha256').update(pkg.tarball).digest('hex'));
    expect(name).toBe(pkg.tarballName);
    expect(pkg.checksum.endsWith('\n')).toBe(true);
  });

  it('gives the same bytes for the same input, and other bytes for another mtime', async () => {
    const a = await createReleasePackage(input);
    const b = await createReleasePackage({ ...input, license: Buffer.from('license text\n') });
    const c = await createReleasePackage({ ...input, mtime: 0 });
    expect(a.sha256).toBe(b.sha256);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('does not double a leading v in the version', () => {
    expect(packageStem('x', 'v1.0.0', 'arm')).toBe('x-v1.0.0-linux-arm');
  });
});
