import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GO_BUILDINFO_MAGIC, goBuildInfoInFile, goBuildInfoOf, goBuildInfoOffset } from './go-buildinfo';
import { inlineBuildInfo, POINTER_BUILD_INFO } from './__fixtures__/go-buildinfo';

/** The reader's edges; real binaries of three arches are checked against `go version -m` in test/supply-chain/go-buildinfo.test.ts. */
describe('Go build info read from bytes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-go-buildinfo-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** `header` at byte `at` of 1 MiB of zeros. */
  const binaryWith = (header: Buffer, at: number) => Buffer.concat([Buffer.alloc(at), header, Buffer.alloc(1024 * 1024)]);

  it('skips an unaligned copy of the magic and reads the aligned header after it', () => {
    const bytes = Buffer.alloc(2 * 1024 * 1024);
    inlineBuildInfo('go1.0', 'path\tdecoy\n').copy(bytes, 8);
    // The linker puts the real header on a 16-byte boundary.
    const real = 1024 * 1024 + 16 * 3;
    inlineBuildInfo('go1.26.8', 'path\treal\n').copy(bytes, real);
    expect(goBuildInfoOffset(bytes)).toBe(real);
    expect(goBuildInfoOf(bytes)).toEqual({ goVersion: 'go1.26.8', modInfo: 'path\treal\n' });
  });

  it('gives undefined for the pointer kind of Go before 1.18 and for strings cut short', () => {
    expect(goBuildInfoOf(binaryWith(POINTER_BUILD_INFO, 4096))).toBeUndefined();
    const whole = inlineBuildInfo('go1.26.8', 'path\tx\n');
    expect(goBuildInfoOf(whole.subarray(0, whole.length - 1))).toBeUndefined();
    expect(goBuildInfoOf(Buffer.from('no magic here'))).toBeUndefined();
  });

  it('gives an empty module list when the sentinels are not there (a binary built outside module mode), as Go does', () => {
    const stringOf = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);
    const header = Buffer.concat([GO_BUILDINFO_MAGIC, Buffer.from([8, 2]), Buffer.alloc(16), stringOf('go1.26.8')]);
    expect(goBuildInfoOf(Buffer.concat([header, stringOf('')]))).toEqual({ goVersion: 'go1.26.8', modInfo: '' });
    // Text with no framing: the byte 17 from its end is not a newline, so none of it counts.
    expect(goBuildInfoOf(Buffer.concat([header, stringOf('path\texample.com/unframed\nmod\texample.com/unframed')]))).toEqual({ goVersion: 'go1.26.8', modInfo: '' });
  });

  it('reads a module list longer than its first read from a file, and the pointer kind there as undefined', async () => {
    const modInfo = Array.from({ length: 6000 }, (_, i) => `dep\texample.com/module-${i}\tv1.0.${i}\th1:${'x'.repeat(43)}=\n`).join('');
    expect(modInfo.length).toBeGreaterThan(256 * 1024);
    const file = join(dir, 'long');
    await writeFile(file, binaryWith(inlineBuildInfo('go1.26.8', modInfo), 64 * 1024));
    expect(await goBuildInfoInFile(file, 64 * 1024)).toEqual({ goVersion: 'go1.26.8', modInfo });
    const old = join(dir, 'old');
    await writeFile(old, binaryWith(POINTER_BUILD_INFO, 64 * 1024));
    expect(await goBuildInfoInFile(old, 64 * 1024)).toBeUndefined();
  });
});
