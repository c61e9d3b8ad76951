import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findTestFiles, globToRegExp, staticPrefix, testRoots } from './find-tests';

describe('globToRegExp', () => {
  it.each([
    ['integration/**/*.arch.test.ts', 'integration/proxy.arch.test.ts', true],
    ['integration/**/*.arch.test.ts', 'integration/deep/er/proxy.arch.test.ts', true],
    ['integration/**/*.arch.test.ts', 'integration/proxy.test.ts', false],
    ['integration/**/*.arch.test.ts', 'other/integration/proxy.arch.test.ts', false],
    ['*.arch.test.{ts,js}', 'a.arch.test.js', true],
    ['*.arch.test.{ts,js}', 'dir/a.arch.test.js', false],
    ['test/?.ts', 'test/a.ts', true],
    ['test/?.ts', 'test/ab.ts', false],
    ['a,b/**/x.ts', 'a,b/x.ts', true],
  ])('%s matches %s: %s', (pattern, path, want) => {
    expect(globToRegExp(pattern).test(path)).toBe(want);
  });

  it('finds the fixed folder of a pattern', () => {
    expect(staticPrefix('integration/**/*.ts')).toBe('integration');
    expect(staticPrefix('a/b/*.ts')).toBe('a/b');
    expect(staticPrefix('*.ts')).toBe('');
  });
});

describe('findTestFiles', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'find-tests-'));
    for (const file of ['integration/a.arch.test.ts', 'integration/sub/b.arch.test.ts', 'integration/c.test.ts', 'src/d.arch.test.ts', 'target/integration/e.arch.test.ts', 'integration/node_modules/f.arch.test.ts']) {
      await mkdir(dirname(join(root, file)), { recursive: true });
      await writeFile(join(root, file), '');
    }
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('finds the default pattern under integration/, sorted, skipping node_modules', async () => {
    expect(await findTestFiles(root)).toEqual([join(root, 'integration/a.arch.test.ts'), join(root, 'integration/sub/b.arch.test.ts')]);
  });

  it('takes several patterns, and never walks build folders', async () => {
    expect(await findTestFiles(root, ['**/*.arch.test.ts'])).toEqual([
      join(root, 'integration/a.arch.test.ts'),
      join(root, 'integration/sub/b.arch.test.ts'),
      join(root, 'src/d.arch.test.ts'),
    ]);
    expect(testRoots(root, ['integration/**/*.ts', 'src/*.ts'])).toEqual([join(root, 'integration'), join(root, 'src')]);
  });

  it('finds nothing in a missing folder', async () => {
    expect(await findTestFiles(root, ['absent/**/*.ts'])).toEqual([]);
  });
});
