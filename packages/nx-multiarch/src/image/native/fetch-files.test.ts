import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipDeterministic } from '../../oci/gzip';
import { createTar } from '../../oci/tar';
import type { FetchStep } from '../../dockerfile/fetch-steps';
import { runFetchSteps, type FetchContext } from './fetch-files';

const URL = 'https://releases.example/v1/tool-v1-arm64.tar.gz';

describe('download steps served from a workspace package', () => {
  let ws: string;
  let ctx: FetchContext;
  let tarball: Buffer;
  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), 'nxm-fetch-files-'));
    const folder = join(ws, 'dist', 'cross', 'tool', 'arm64');
    await mkdir(folder, { recursive: true });
    tarball = gzipDeterministic(
      await createTar(
        [
          { path: 'tool-v1/bin/tool', type: 'file', mode: 0o755, content: Buffer.from('#!/bin/sh\necho tool\n') },
          { path: 'tool-v1/LICENSE', type: 'file', content: Buffer.alloc(300_000, 'L') },
        ],
        { mtime: 0 },
      ),
    );
    await writeFile(join(folder, 'tool-v1-arm64.tar.gz'), tarball);
    await writeFile(join(folder, 'tool-v1-arm64.txt'), `${createHash('sha256').update(tarball).digest('hex')}  tool-v1-arm64.tar.gz\n`);
    ctx = { workspaceRoot: ws, arch: 'arm64', downloads: { 'tool-*.tar.gz': 'tool:cargo-cross' }, dockerfileName: 'Dockerfile', extractDir: await mkdtemp(join(ws, 'extract-')) };
  });
  afterAll(() => rm(ws, { recursive: true, force: true }));

  const download: FetchStep[] = [
    { op: 'download', url: URL, to: '/tmp/tool.tar.gz' },
    { op: 'download', url: URL.replace('.tar.gz', '.txt'), to: '/tmp/tool-v1-arm64.txt' },
  ];

  it('checks, extracts and strips, leaving extracted files on disk (not in memory) and the package where it is', async () => {
    const entries = await runFetchSteps(
      [...download, { op: 'sha256-inline', sha256: createHash('sha256').update(tarball).digest('hex'), file: '/tmp/tool.tar.gz' }, { op: 'extract', archive: '/tmp/tool.tar.gz', dir: '/opt/tool', strip: 1, members: [] }],
      4,
      ctx,
    );
    const files = Object.fromEntries(entries.filter((e) => e.type === 'file').map((e) => [e.path, e]));
    expect(Object.keys(files).sort()).toEqual(['opt/tool/LICENSE', 'opt/tool/bin/tool', 'tmp/tool-v1-arm64.txt', 'tmp/tool.tar.gz']);
    for (const path of ['opt/tool/LICENSE', 'opt/tool/bin/tool']) {
      expect(files[path].content).toBeUndefined();
      expect(files[path].source?.path.startsWith(ctx.extractDir as string)).toBe(true);
    }
    expect(readFileSync(files['opt/tool/bin/tool'].source?.path as string, 'utf8')).toBe('#!/bin/sh\necho tool\n');
    expect(files['opt/tool/bin/tool'].mode).toBe(0o755);
    expect(files['tmp/tool.tar.gz'].source?.path).toBe(join(ws, 'dist', 'cross', 'tool', 'arm64', 'tool-v1-arm64.tar.gz'));
  });

  it('fails a checksum that does not match, and a tar -x of something that is not gzip, naming the line', async () => {
    await expect(runFetchSteps([...download, { op: 'sha256-inline', sha256: '0'.repeat(64), file: '/tmp/tool.tar.gz' }], 4, ctx)).rejects.toThrow(
      /^Dockerfile line 4: sha256sum -c: \/tmp\/tool.tar.gz hashes to [0-9a-f]{64}, not 0{64}\.$/,
    );
    // A package whose gzip breaks off after its header: the checksum file vouches for it, tar -x cannot read it.
    const broken = Buffer.concat([tarball.subarray(0, 40), Buffer.alloc(200, 0xee)]);
    const folder = join(ws, 'dist', 'cross', 'broken', 'arm64');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'broken-v1.tar.gz'), broken);
    await writeFile(join(folder, 'broken-v1.txt'), `${createHash('sha256').update(broken).digest('hex')}  broken-v1.tar.gz\n`);
    const brokenCtx = { ...ctx, downloads: { 'broken-*.tar.gz': 'broken:cargo-cross' } };
    await expect(
      runFetchSteps([{ op: 'download', url: 'https://releases.example/broken-v1.tar.gz', to: '/tmp/b.tar.gz' }, { op: 'extract', archive: '/tmp/b.tar.gz', dir: '/opt', strip: 0, members: [] }], 5, brokenCtx),
    ).rejects.toThrow('Dockerfile line 5: /tmp/b.tar.gz is not a gzip archive.');
  });
});
