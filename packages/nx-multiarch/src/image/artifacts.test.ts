import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stageArtifacts, validateArtifacts, type ArtifactSpec } from './artifacts';
import { createReleasePackage } from '../cross/package-tarball';
import { createScratchContext } from './context/scratch-context';

let ws: string;

async function write(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(ws, path)), { recursive: true });
  await writeFile(join(ws, path), content);
}

async function writePackage(arch: string, proxy = 'proxy-binary'): Promise<string> {
  const pkg = await createReleasePackage({
    name: 'linkerd2-proxy',
    version: '0.1.0',
    arch,
    license: Buffer.from('Apache-2.0\n'),
    binaries: [{ name: 'linkerd2-proxy', content: Buffer.from(proxy) }],
    mtime: 0,
  });
  await write(`dist/cross/linkerd2-proxy/${arch}/${pkg.tarballName}`, pkg.tarball);
  await write(`dist/cross/linkerd2-proxy/${arch}/${pkg.checksumName}`, pkg.checksum);
  return pkg.tarballName;
}

async function stage(artifacts: ArtifactSpec[], arch = 'arm', contextDir = join(ws, 'ctx')) {
  await mkdir(contextDir, { recursive: true });
  return stageArtifacts({ workspaceRoot: ws, arch, artifacts, contextDir, crossTargetOf: (p) => (p === 'linkerd2-proxy-init' ? 'go-cross' : undefined) });
}

type HintedError = Error & { hint?: string };

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<HintedError> {
  try {
    await promise;
  } catch (error) {
    return error as HintedError;
  }
  throw new Error('expected a failure');
}

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'nxm-artifacts-'));
});
afterEach(() => rm(ws, { recursive: true, force: true }));

describe('validateArtifacts', () => {
  it('takes the two forms and refuses anything else', () => {
    expect(validateArtifacts([{ from: 'a', to: 'bin' }, { package: 'b', to: 'bin' }])).toEqual([
      { from: 'a', to: 'bin' },
      { package: 'b', to: 'bin' },
    ]);
    expect(validateArtifacts(undefined)).toEqual([]);
    expect(() => validateArtifacts([{ from: 'a', package: 'b', to: 'bin' }])).toThrow(/exactly one of "from" or "package"/);
    expect(() => validateArtifacts([{ from: 'a' }])).toThrow(/needs "to"/);
    expect(() => validateArtifacts({ from: 'a' })).toThrow(/must be an array/);
  });
});

describe('stageArtifacts', () => {
  it('copies a file or a folder with {arch} replaced, keeping the execute bit', async () => {
    await write('dist/cross/linkerd2-proxy-init/arm/linkerd2-proxy-init', 'init');
    await chmod(join(ws, 'dist/cross/linkerd2-proxy-init/arm/linkerd2-proxy-init'), 0o755);
    await write('dist/cross/tools/arm/a', 'a');
    await write('dist/cross/tools/arm/sub/b', 'b');
    const staged = await stage([
      { from: 'dist/cross/linkerd2-proxy-init/{arch}/linkerd2-proxy-init', to: 'bin' },
      { from: 'dist/cross/tools/{arch}', to: 'tools' },
    ]);
    expect(staged.map((s) => [s.source, s.files])).toEqual([
      ['dist/cross/linkerd2-proxy-init/arm/linkerd2-proxy-init', ['bin/linkerd2-proxy-init']],
      ['dist/cross/tools/arm', ['tools/a', 'tools/sub/b']],
    ]);
    expect((await stat(join(ws, 'ctx/bin/linkerd2-proxy-init'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(ws, 'ctx/tools/sub/b'), 'utf8')).toBe('b');
  });

  it('unpacks the files of the package top folder after checking its checksum', async () => {
    await writePackage('arm', 'the proxy');
    const staged = await stage([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }]);
    expect(staged[0].files).toEqual(['bin/LICENSE', 'bin/linkerd2-proxy']);
    expect(await readFile(join(ws, 'ctx/bin/linkerd2-proxy'), 'utf8')).toBe('the proxy');
    expect((await stat(join(ws, 'ctx/bin/linkerd2-proxy'))).mode & 0o777).toBe(0o755);
  });

  it('refuses a package that does not match its checksum, naming both files and the fix', async () => {
    const name = await writePackage('arm64');
    await write('dist/cross/linkerd2-proxy/arm64/linkerd2-proxy-v0.1.0-linux-arm64.txt', `${'0'.repeat(64)}  ${name}\n`);
    const error = await failure(stage([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }], 'arm64'));
    expect(error.message.startsWith(
      `Package dist/cross/linkerd2-proxy/arm64/${name} does not match its checksum: dist/cross/linkerd2-proxy/arm64/linkerd2-proxy-v0.1.0-linux-arm64.txt says ${'0'.repeat(64)}, `,
    )).toBe(true);
    expect(error.message).toMatch(/the file hashes to [0-9a-f]{64}\.$/);
    expect(error.hint).toContain('nx run linkerd2-proxy:cargo-cross --arch=arm64');
  });

  it('refuses a missing package or checksum, and several packages', async () => {
    await expect(stage([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }], 'amd64')).rejects.toThrow(
      'No package (*.tar.gz) in dist/cross/linkerd2-proxy/amd64 (the folder does not exist).',
    );
    await writePackage('amd64');
    await rm(join(ws, 'dist/cross/linkerd2-proxy/amd64/linkerd2-proxy-v0.1.0-linux-amd64.txt'));
    await expect(stage([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }], 'amd64')).rejects.toThrow(/has no checksum file/);
    await write('dist/cross/linkerd2-proxy/amd64/old.tar.gz', 'x');
    await expect(stage([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }], 'amd64')).rejects.toThrow(/holds 2 packages/);
  });

  it('names the cross target of the project in the hint for a missing artifact', async () => {
    const error = await failure(stage([{ from: 'dist/cross/linkerd2-proxy-init/{arch}', to: 'bin' }]));
    expect(error.message).toBe('Artifact dist/cross/linkerd2-proxy-init/arm does not exist (needed for --arch=arm).');
    expect(error.hint).toContain('nx run linkerd2-proxy-init:go-cross --arch=arm');
  });

  it('refuses sources outside the workspace and destinations outside the context', async () => {
    await expect(stage([{ from: '../elsewhere', to: 'bin' }])).rejects.toThrow(/outside the workspace/);
    await write('dist/x', 'x');
    await expect(stage([{ from: 'dist/x', to: '../up' }])).rejects.toThrow(/outside the build context/);
  });

  it('never writes through the hard links of a scratch context into the project', async () => {
    await write('project/Dockerfile', 'FROM scratch\n');
    await write('project/bin/linkerd2-proxy-init', 'stale local build');
    await write('project/target/huge', 'ignored');
    await write('project/.dockerignore', 'target\n');
    await write('dist/cross/linkerd2-proxy-init/arm/linkerd2-proxy-init', 'fresh');
    const scratch = await createScratchContext(join(ws, 'project'), join(ws, 'tmp'), 'demo-arm');
    expect((await readdir(scratch)).sort()).toEqual(['.dockerignore', 'Dockerfile', 'bin']);
    await stage([{ from: 'dist/cross/linkerd2-proxy-init/{arch}', to: 'bin' }], 'arm', scratch);
    expect(await readFile(join(scratch, 'bin/linkerd2-proxy-init'), 'utf8')).toBe('fresh');
    expect(await readFile(join(ws, 'project/bin/linkerd2-proxy-init'), 'utf8')).toBe('stale local build');
  });
});
