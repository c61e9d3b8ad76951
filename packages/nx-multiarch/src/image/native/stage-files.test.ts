import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipDeterministic } from '../../oci/gzip';
import { createTar } from '../../oci/tar';
import { PLATFORMS } from '../../platform/platforms';
import { BuildContext } from '../context/context';
import type { CopyOperation, FileOperation } from '../../dockerfile/evaluate-stage';
import { collectStageFiles } from './stage-files';

/** An ELF header for a machine (enough for the arch check). */
function elf(machine: number, elfClass: 1 | 2): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, elfClass, 1, 1]).copy(b);
  b.writeUInt16LE(machine, 18);
  return b;
}

let dir: string;
let context: BuildContext;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxm-stage-files-'));
  const files: Record<string, string | Buffer> = {
    'bin/app': elf(40, 1),
    'bin/amd64-app': elf(62, 2),
    'conf/a.conf': 'a',
    'conf/sub/b.conf': 'b',
    'single.txt': 'single',
    'other.txt': 'other',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const tar = await createTar([{ path: 'pkg/tool', type: 'file', mode: 0o700, content: Buffer.from('tool') }, { path: 'pkg/link', type: 'symlink', linkTarget: 'tool' }], { mtime: 0 });
  await writeFile(join(dir, 'bundle.tar.gz'), gzipDeterministic(tar));
  await writeFile(join(dir, 'bundle.tar'), tar);
  await writeFile(join(dir, 'notes.txt.gz'), gzipDeterministic(Buffer.from('not a tar, only gzip\n'.repeat(40))));
  await writeFile(join(dir, 'climb.tar'), await createTarWithRawName('../escape', 'x'));
  await writeFile(join(dir, 'wrong-arch.tar.gz'), gzipDeterministic(await createTar([{ path: 'bin/tool', type: 'file', content: elf(62, 2) }], { mtime: 0 })));
  context = await BuildContext.open(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const copy = (over: Partial<CopyOperation>): CopyOperation => ({ op: 'copy', line: 3, keyword: 'COPY', sources: [], dest: '/', destIsDir: true, ...over });

/** A tar with one file under a raw name (createTar refuses names that climb, as it should). */
async function createTarWithRawName(name: string, content: string): Promise<Buffer> {
  const tar = await createTar([{ path: 'placeholder-name', type: 'file', content: Buffer.from(content) }], { mtime: 0 });
  // Rewrite the header's name field and its checksum.
  const header = Buffer.from(tar.subarray(0, 512));
  header.fill(0, 0, 100);
  header.write(name, 0, 'latin1');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([header, tar.subarray(512)]);
}

async function entries(ops: FileOperation[]) {
  const extractDir = await mkdtemp(join(dir, '.extract-'));
  const list = await collectStageFiles(ops, context, PLATFORMS.arm, { extractDir });
  // Copied files stay on disk until the layer streams them: read what the entry points at.
  const bytes = (e: (typeof list)[number]) => e.content ?? (e.source ? readFileSync(e.source.path) : undefined);
  return Object.fromEntries(list.map((e) => [e.path, [e.type, (e.mode ?? 0).toString(8), e.uid ?? 0, bytes(e)?.toString() ?? e.linkTarget ?? '']]));
}

describe('collectStageFiles', () => {
  it('copies a file to a path, or into a folder ending with /', async () => {
    expect(await entries([copy({ sources: ['single.txt'], dest: '/etc/renamed.txt', destIsDir: false })])).toEqual({
      'etc/renamed.txt': ['file', '644', 0, 'single'],
    });
    expect(await entries([copy({ sources: ['single.txt', 'other.txt'], dest: '/srv', destIsDir: true })])).toEqual({
      'srv/single.txt': ['file', '644', 0, 'single'],
      'srv/other.txt': ['file', '644', 0, 'other'],
    });
  });

  it('copies what a folder holds, owned by --chown (the destination too), --chmod on files only', async () => {
    expect(await entries([copy({ sources: ['conf'], dest: '/etc/app', destIsDir: false, chmod: 0o600, owner: { uid: 7, gid: 8 } })])).toEqual({
      'etc/app': ['directory', '755', 7, ''],
      'etc/app/a.conf': ['file', '600', 7, 'a'],
      'etc/app/sub': ['directory', '755', 7, ''],
      'etc/app/sub/b.conf': ['file', '600', 7, 'b'],
    });
  });

  it('needs a destination ending with / for several sources', async () => {
    await expect(entries([copy({ sources: ['single.txt', 'other.txt'], dest: '/srv/x', destIsDir: false })])).rejects.toThrow(
      'COPY on line 3: 2 sources (single.txt, other.txt) but the destination /srv/x does not end with /.',
    );
    await expect(entries([copy({ sources: ['*.txt'], dest: '/srv/x', destIsDir: false })])).rejects.toThrow(/does not end with \//);
  });

  it('extracts a local tar.gz with ADD, and copies it as it is with COPY', async () => {
    expect(await entries([copy({ keyword: 'ADD', sources: ['bundle.tar.gz'], dest: '/opt/', destIsDir: true })])).toEqual({
      'opt/pkg': ['directory', '755', 0, ''],
      'opt/pkg/tool': ['file', '700', 0, 'tool'],
      'opt/pkg/link': ['symlink', '777', 0, 'tool'],
    });
    expect(Object.keys(await entries([copy({ sources: ['bundle.tar.gz'], dest: '/opt/', destIsDir: true })]))).toEqual(['opt/bundle.tar.gz']);
  });

  it('extracts a plain tar too, streaming each file to disk, and copies a gzip that holds no tar as it is', async () => {
    const extractDir = await mkdtemp(join(dir, '.extract-'));
    const list = await collectStageFiles([copy({ keyword: 'ADD', sources: ['bundle.tar'], dest: '/opt/', destIsDir: true })], context, PLATFORMS.arm, { extractDir });
    const tool = list.find((e) => e.path === 'opt/pkg/tool');
    // The extracted file enters the layer from disk, like a copied one, not held in memory.
    expect(tool?.content).toBeUndefined();
    expect(tool?.source?.path.startsWith(extractDir)).toBe(true);
    expect(readFileSync(tool?.source?.path as string, 'utf8')).toBe('tool');
    expect(await entries([copy({ keyword: 'ADD', sources: ['notes.txt.gz'], dest: '/srv/', destIsDir: true })])).toEqual({
      'srv/notes.txt.gz': ['file', '644', 0, readFileSync(join(dir, 'notes.txt.gz')).toString()],
    });
  });

  it('refuses an archive entry that climbs out of the destination, and an ELF inside an archive built for another arch', async () => {
    await expect(entries([copy({ keyword: 'ADD', sources: ['climb.tar'], dest: '/opt/', destIsDir: true })])).rejects.toThrow('Archive entry "../escape" points outside the archive root.');
    await expect(entries([copy({ keyword: 'ADD', sources: ['wrong-arch.tar.gz'], dest: '/opt/', destIsDir: true })])).rejects.toThrow(
      'bin/tool in wrong-arch.tar.gz (ADD on line 3) is an ELF binary for amd64, not arm.',
    );
  });

  it('lets a later operation replace an earlier one at the same path', async () => {
    const result = await entries([
      copy({ sources: ['single.txt'], dest: '/x.txt', destIsDir: false }),
      copy({ line: 4, sources: ['other.txt'], dest: '/x.txt', destIsDir: false }),
      { op: 'mkdir', line: 5, path: '/work', owner: { uid: 1, gid: 1 } },
    ]);
    expect(result).toEqual({ 'x.txt': ['file', '644', 0, 'other'], work: ['directory', '755', 1, ''] });
  });

  it('checks every ELF file against the arch, naming the source and line', async () => {
    expect((await entries([copy({ sources: ['bin/app'], dest: '/app', destIsDir: false })]))['app'][0]).toBe('file');
    await expect(entries([copy({ sources: ['bin/'], dest: '/usr/bin/', destIsDir: true })])).rejects.toThrow(
      'bin/amd64-app (COPY on line 3) is an ELF binary for amd64, not arm.',
    );
  });
});
