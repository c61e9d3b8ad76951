import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildContext } from './context';
import { IgnoreMatcher } from './dockerignore';
import { globToRegExp, staticPrefix } from './glob';

describe('globToRegExp', () => {
  it.each([
    ['bin/*', 'bin/proxy', true],
    ['bin/*', 'bin/sub/proxy', false],
    ['bin/*', 'bin/.hidden', true],
    ['bin/prox?', 'bin/proxy', true],
    ['bin/[a-p]roxy', 'bin/proxy', true],
    ['bin/[^p]roxy', 'bin/proxy', false],
    ['**/*.go', 'main.go', true],
    ['**/*.go', 'a/b/main.go', true],
    ['target/**', 'target/debug/x', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['file.txt', 'fileXtxt', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(globToRegExp(pattern).test(path)).toBe(expected);
  });

  it('finds the folder a glob walk starts from', () => {
    expect(staticPrefix('bin/arm/*')).toBe('bin/arm');
    expect(staticPrefix('*.txt')).toBe('');
    expect(staticPrefix('bin/arm/proxy')).toBe('bin/arm');
  });
});

describe('IgnoreMatcher', () => {
  it('excludes folders with all they hold, re-includes with !, last rule wins', () => {
    const ignore = IgnoreMatcher.parse('# build output\ntarget\n*.md\n!README.md\n/secrets/**\n');
    expect(ignore.ignores('target')).toBe(true);
    expect(ignore.ignores('target/debug/proxy')).toBe(true);
    expect(ignore.ignores('NOTES.md')).toBe(true);
    expect(ignore.ignores('README.md')).toBe(false);
    expect(ignore.ignores('secrets/key')).toBe(true);
    expect(ignore.ignores('bin/proxy')).toBe(false);
  });
});

describe('BuildContext', () => {
  let root: string;
  let ctxDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-context-'));
    ctxDir = join(root, 'ctx');
    await mkdir(join(ctxDir, 'bin', 'sub'), { recursive: true });
    await writeFile(join(ctxDir, 'bin', 'proxy'), 'proxy');
    await chmod(join(ctxDir, 'bin', 'proxy'), 0o775);
    await writeFile(join(ctxDir, 'bin', 'sub', 'data.txt'), 'data');
    await chmod(join(ctxDir, 'bin', 'sub', 'data.txt'), 0o600);
    await symlink('proxy', join(ctxDir, 'bin', 'alias'));
    await writeFile(join(ctxDir, 'notes.md'), 'notes');
    await writeFile(join(ctxDir, '.dockerignore'), 'notes.md\n');
    await writeFile(join(root, 'secret'), 'secret');
    await symlink('../secret', join(ctxDir, 'escape'));
    await symlink(join(root, 'secret'), join(ctxDir, 'bin', 'absolute-escape'));
    await symlink('missing', join(ctxDir, 'dangling'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('reads a file with a normalised mode, and a folder keeping inner symlinks', async () => {
    const ctx = await BuildContext.open(ctxDir);
    const [file] = await ctx.resolveSource('./bin/proxy', 'COPY line 1');
    // The file stays on disk (the layer streams it); its size and first bytes are known.
    expect(await ctx.readTree(file, 'x')).toEqual([
      { path: '', type: 'file', mode: 0o755, head: Buffer.from('proxy'), source: { path: file.realPath, size: 5, mtimeNs: expect.any(BigInt) } },
    ]);
    const [dir] = await ctx.resolveSource('/bin/sub/..', 'COPY line 1');
    const tree = await ctx.readTree(dir, 'x');
    expect(tree.map((e) => [e.path, e.type, e.mode.toString(8)])).toEqual([
      ['', 'directory', '755'],
      ['absolute-escape', 'symlink', '777'],
      ['alias', 'symlink', '777'],
      ['proxy', 'file', '755'],
      ['sub', 'directory', '755'],
      ['sub/data.txt', 'file', '644'],
    ]);
  });

  it('expands globs in name order and follows a symlink that stays inside', async () => {
    const ctx = await BuildContext.open(ctxDir);
    const matches = await ctx.resolveSource('bin/*[sy]', 'COPY line 2');
    expect(matches.map((m) => m.path)).toEqual(['bin/alias', 'bin/proxy']);
    expect((await ctx.readTree(matches[0], 'x'))[0].head?.toString()).toBe('proxy');
  });

  it('refuses ../ sources, naming the line', async () => {
    const ctx = await BuildContext.open(ctxDir);
    await expect(ctx.resolveSource('../secret', 'COPY line 3')).rejects.toThrow('COPY line 3: source "../secret" is outside the build context.');
    await expect(ctx.resolveSource('bin/../../secret', 'COPY line 3')).rejects.toThrow(/outside the build context/);
  });

  it('refuses symlinks pointing out of the context, relative or absolute, direct or by glob', async () => {
    const ctx = await BuildContext.open(ctxDir);
    await expect(ctx.resolveSource('escape', 'COPY line 4')).rejects.toThrow('COPY line 4: source "escape" is a symlink to ../secret pointing outside the build context.');
    await expect(ctx.resolveSource('bin/absolute-*', 'COPY line 4')).rejects.toThrow(/pointing outside the build context/);
  });

  it('says what is missing, dangling or excluded by .dockerignore', async () => {
    const ctx = await BuildContext.open(ctxDir);
    await expect(ctx.resolveSource('bin/nothing', 'COPY line 5')).rejects.toThrow(/source "bin\/nothing" was not found in the build context/);
    await expect(ctx.resolveSource('dangling', 'COPY line 5')).rejects.toThrow(/is a symlink to missing, which does not exist/);
    await expect(ctx.resolveSource('notes.md', 'COPY line 5')).rejects.toThrow(/excluded by .dockerignore/);
    await expect(ctx.resolveSource('*.md', 'COPY line 5')).rejects.toThrow(/was not found/);
  });

  it('refuses a context that is not a folder', async () => {
    await expect(BuildContext.open(join(root, 'secret'))).rejects.toThrow(/is not a folder/);
  });
});
