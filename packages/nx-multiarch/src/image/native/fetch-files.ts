import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipStream } from '../../oci/gzip';
import { MultiarchError } from '../../errors';
import { readFileHead, readFileSource, sha256OfFileSource, statFileSource, writeFileSource, type FileSource } from '../../oci/file-source';
import { readTarStream, type ArchiveEntry } from '../../oci/tar';
import { matchDownload, type DownloadMap, type DownloadMatch } from '../../dockerfile/download-map';
import { unmappedDownloadError, type FetchStep } from '../../dockerfile/fetch-steps';

/**
 * Runs the download steps of a stage (dockerfile/fetch-steps.ts) without a
 * network or a container: each download is served from the workspace
 * package it is mapped to (`dist/cross/<project>/<arch>/<name>.tar.gz` and
 * its `.txt`), and sha256sum -c, tar -x, mkdir, mv, rm and chmod act on a
 * file tree kept as a list: a package stays where it is on disk, files `tar
 * -x` takes out go to the extract folder as they stream, and only checksum
 * files are held in memory. What is left in the tree at the end is what the RUN
 * line adds to the image, as it would be in Docker.
 *
 * A checksum file is served as a release would publish it: `<sha256>  <the
 * package URL's file name>`, with the sha256 the workspace's own .txt gives
 * (checked against the tarball first), so `sha256sum -c` really checks.
 */
export interface FetchContext {
  workspaceRoot: string;
  /** The --arch value as given: it names the dist/cross/<project>/<arch> folder. */
  arch: string;
  downloads: DownloadMap;
  dockerfileName: string;
  /** Where `tar -x` writes what it extracts; the files must stay there until the layer is written. */
  extractDir?: string;
}

interface Node {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  /** A small file's bytes (a checksum file). */
  content?: Buffer;
  /** A file on disk: a package, or what tar -x extracted. */
  source?: FileSource;
  /** Its sha256 when already known (a package, checked against its .txt). */
  sha256?: string;
  linkTarget?: string;
}

interface WorkspacePackage {
  tarball: FileSource;
  sha256: string;
  folder: string;
}

function fail(ctx: FetchContext, line: number, problem: string, hint: string): MultiarchError {
  return new MultiarchError(`${ctx.dockerfileName} line ${line}: ${problem}`, hint);
}

async function readPackage(ctx: FetchContext, line: number, url: string, match: DownloadMatch): Promise<WorkspacePackage> {
  const folder = `dist/cross/${match.project}/${ctx.arch}`;
  const build = `Build it first: nx run ${match.project}:${match.target} --arch=${ctx.arch} (an inferred docker-arch-build depends on it when the mapping is in its options or the plugin options).`;
  const names = await readdir(join(ctx.workspaceRoot, folder)).catch(() => undefined);
  const tarballs = (names ?? []).filter((n) => n.endsWith('.tar.gz')).sort();
  if (tarballs.length !== 1) {
    throw fail(ctx, line, `${url} maps to ${match.project}:${match.target}, but ${folder} holds ${tarballs.length === 0 ? 'no package (*.tar.gz)' : `${tarballs.length} packages (${tarballs.join(', ')})`}.`, build);
  }
  const tarball = await statFileSource(join(ctx.workspaceRoot, folder, tarballs[0]));
  const stem = tarballs[0].slice(0, -'.tar.gz'.length);
  let text: string | undefined;
  for (const name of [`${stem}.txt`, `${tarballs[0]}.txt`]) {
    text = await readFile(join(ctx.workspaceRoot, folder, name), 'utf8').catch(() => undefined);
    if (text !== undefined) break;
  }
  if (text === undefined) throw fail(ctx, line, `the package ${folder}/${tarballs[0]} has no checksum file (${stem}.txt).`, build);
  const sha256 = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const actual = await sha256OfFileSource(tarball);
  if (sha256 !== actual) {
    throw fail(ctx, line, `the package ${folder}/${tarballs[0]} does not match its checksum file (it says ${sha256 || 'nothing'}, the file hashes to ${actual}).`, `The package is damaged or stale; rebuild it. ${build}`);
  }
  return { tarball, sha256, folder };
}

/** The file name of the package a checksum URL belongs to (`x.txt` → `x.tar.gz`, `x.tar.gz.sha256` → `x.tar.gz`). */
function packageNameOf(checksumUrl: string): string {
  const name = posix.basename(checksumUrl.split(/[?#]/)[0]);
  const stem = name.replace(/\.(sha256sum|sha256|txt)$/, '');
  return stem.endsWith('.tar.gz') || stem.endsWith('.tgz') ? stem : `${stem}.tar.gz`;
}

class FileTree {
  readonly nodes = new Map<string, Node>();

  private parents(path: string): void {
    for (let dir = posix.dirname(path); dir !== '/' && !this.nodes.has(dir); dir = posix.dirname(dir)) {
      this.nodes.set(dir, { type: 'directory', mode: 0o755 });
    }
  }

  set(path: string, node: Node): void {
    this.parents(path);
    this.nodes.set(path, node);
  }

  file(path: string): Node | undefined {
    const node = this.nodes.get(path);
    return node?.type === 'file' ? node : undefined;
  }

  under(path: string): string[] {
    return [...this.nodes.keys()].filter((p) => p === path || p.startsWith(`${path}/`));
  }

  remove(path: string): void {
    for (const p of this.under(path)) this.nodes.delete(p);
  }

  move(from: string, to: string): boolean {
    const paths = this.under(from);
    if (paths.length === 0) return false;
    // mv into an existing folder puts the source inside it.
    const dest = this.nodes.get(to)?.type === 'directory' ? posix.join(to, posix.basename(from)) : to;
    for (const p of paths) {
      const node = this.nodes.get(p) as Node;
      this.nodes.delete(p);
      this.set(dest + p.slice(from.length), node);
    }
    return true;
  }

  entries(): ArchiveEntry[] {
    return [...this.nodes.entries()].map(([path, node]) => ({
      path: path.replace(/^\/+/, ''),
      type: node.type,
      mode: node.mode,
      ...(node.content ? { content: node.content } : {}),
      ...(node.source ? { source: node.source } : {}),
      ...(node.linkTarget !== undefined ? { linkTarget: node.linkTarget } : {}),
    }));
  }
}

function chmodValue(mode: string, current: number): number | undefined {
  if (/^[0-7]{3,4}$/.test(mode)) return parseInt(mode, 8);
  const m = /^([ugoa]*)([+-])([rwx]+)$/.exec(mode);
  if (!m) return undefined;
  const who = m[1] === '' || m[1].includes('a') ? 'ugo' : m[1];
  let bits = 0;
  for (const w of who) {
    const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
    for (const p of m[3]) bits |= (p === 'r' ? 4 : p === 'w' ? 2 : 1) << shift;
  }
  return m[2] === '+' ? current | bits : current & ~bits;
}

/** Runs one RUN (or ADD) line's download steps; returns the files it leaves, paths relative to the image root. */
export async function runFetchSteps(steps: readonly FetchStep[], line: number, ctx: FetchContext): Promise<ArchiveEntry[]> {
  const tree = new FileTree();
  const packages = new Map<string, WorkspacePackage>();
  const packageOf = async (url: string, match: DownloadMatch) => {
    const key = `${match.project}:${match.target}`;
    const known = packages.get(key) ?? (await readPackage(ctx, line, url, match));
    packages.set(key, known);
    return known;
  };
  for (const step of steps) {
    switch (step.op) {
      case 'download': {
        const match = matchDownload(step.url, ctx.downloads);
        if (!match) throw unmappedDownloadError(line, step.url, ctx.dockerfileName);
        const pkg = await packageOf(step.url, match);
        if (match.role === 'package') tree.set(step.to, { type: 'file', mode: 0o644, source: pkg.tarball, sha256: pkg.sha256 });
        else tree.set(step.to, { type: 'file', mode: 0o644, content: Buffer.from(`${pkg.sha256}  ${packageNameOf(step.url)}\n`) });
        break;
      }
      case 'sha256-check': {
        const list = tree.file(step.listFile);
        if (!list) throw fail(ctx, line, `sha256sum -c reads ${step.listFile}, which no step before it wrote.`, 'Download the checksum file first (curl -o <file> <url of the .txt>).');
        const text = (list.content ?? (await readFile((list.source as FileSource).path))).toString('utf8');
        for (const row of text.split('\n').filter((r) => r.trim() !== '')) {
          const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(row.trim());
          if (!m) throw fail(ctx, line, `sha256sum -c: ${step.listFile} has a line that is not "<sha256>  <file>": ${row.trim()}`, 'Check against a checksum file in sha256sum format.');
          await checkHash(ctx, line, tree, m[1].toLowerCase(), posix.resolve(step.cwd, m[2]));
        }
        break;
      }
      case 'sha256-inline':
        await checkHash(ctx, line, tree, step.sha256, step.file);
        break;
      case 'extract':
        await extract(ctx, line, tree, step);
        break;
      case 'mkdir':
        if (!tree.nodes.has(step.path)) tree.set(step.path, { type: 'directory', mode: 0o755 });
        break;
      case 'move':
        if (!tree.move(step.from, step.to)) {
          throw fail(ctx, line, `mv ${step.from}: no earlier step of this line wrote it.`, 'Move only what the line downloaded or extracted (files of the base image are not known here).');
        }
        break;
      case 'remove':
        tree.remove(step.path);
        break;
      case 'chmod': {
        const paths = tree.under(step.path);
        if (paths.length === 0) throw fail(ctx, line, `chmod ${step.path}: no earlier step of this line wrote it.`, 'chmod only what the line downloaded or extracted.');
        const node = tree.nodes.get(step.path) as Node;
        const mode = chmodValue(step.mode, node.mode);
        if (mode === undefined) throw fail(ctx, line, `chmod ${step.mode} is not a mode this engine understands.`, 'Write an octal mode (755) or +x style.');
        node.mode = mode;
        break;
      }
    }
  }
  return tree.entries();
}

/** A file node's sha256: known for a package, else hashed (streamed from disk for a file there). */
async function sha256Of(node: Node): Promise<string> {
  if (node.sha256) return node.sha256;
  if (node.source) return sha256OfFileSource(node.source);
  return createHash('sha256').update(node.content ?? Buffer.alloc(0)).digest('hex');
}

async function checkHash(ctx: FetchContext, line: number, tree: FileTree, sha256: string, path: string): Promise<void> {
  const file = tree.file(path);
  if (!file) throw fail(ctx, line, `sha256sum -c checks ${path}, which no step before it downloaded.`, 'Name the downloaded file in the checksum line (a release checksum names the release file: download it under that name, e.g. curl -O).');
  const actual = await sha256Of(file);
  if (actual !== sha256) {
    throw fail(
      ctx,
      line,
      `sha256sum -c: ${path} hashes to ${actual}, not ${sha256}.`,
      'A fixed sha256 in the Dockerfile names a published release, not the package the workspace builds: check against the downloaded checksum file (.txt) instead.',
    );
  }
}

/** A file node's bytes as a stream, and its first two (gzip's magic). */
async function openNode(node: Node): Promise<{ stream: Readable; magic: Buffer }> {
  if (node.source) return { stream: Readable.from(readFileSource(node.source)), magic: await readFileHead(node.source.path, 2) };
  const content = node.content ?? Buffer.alloc(0);
  return { stream: Readable.from([content]), magic: content.subarray(0, 2) };
}

/**
 * tar -x, streaming: the archive read from disk (gunzipped when it is gzip),
 * each file it holds written to the extract folder as it comes.
 */
async function extract(ctx: FetchContext, line: number, tree: FileTree, step: Extract<FetchStep, { op: 'extract' }>): Promise<void> {
  const archive = tree.file(step.archive);
  if (!archive) throw fail(ctx, line, `tar -x reads ${step.archive}, which no step before it downloaded.`, 'Extract the file the line downloaded.');
  const extractDir = ctx.extractDir;
  if (!extractDir) throw fail(ctx, line, `tar -x has no folder to extract ${step.archive} into.`, 'Build the image with docker-arch-build (the native engine gives download steps a folder for what they extract).');
  const folder = await mkdtemp(join(extractDir, 'fetch-'));
  let extracted = 0;
  const { stream, magic } = await openNode(archive);
  let tar: Readable = stream;
  let gunzipFailed = false;
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    tar = gunzipStream(stream);
    tar.on('error', () => (gunzipFailed = true));
  }
  try {
    await readTarStream(tar, async (entry, content) => {
      // readTarStream has refused an entry that climbs (../): what comes here is inside the archive's root.
      const parts = entry.path.split('/');
      const inner = parts.slice(step.strip);
      const wanted = step.members.length === 0 || step.members.some((m) => parts.join('/') === m.replace(/\/$/, '') || parts.join('/').startsWith(`${m.replace(/\/$/, '')}/`));
      if (inner.length === 0 || !wanted) {
        // Skipped entries are still read through, so the archive moves on to the next one.
        if (content) for await (const _ of content) void _;
        return;
      }
      const path = posix.join(step.dir, inner.join('/'));
      if (entry.type === 'directory') tree.set(path, { type: 'directory', mode: (entry.mode ?? 0o755) & 0o7777 });
      else if (entry.type === 'symlink') tree.set(path, { type: 'symlink', mode: 0o777, linkTarget: entry.linkTarget ?? '' });
      else if (entry.type === 'file') {
        const { source } = await writeFileSource(content ?? Readable.from([]), join(folder, String(extracted++)));
        tree.set(path, { type: 'file', mode: (entry.mode ?? 0o644) & 0o7777, source });
      }
    });
  } catch (error) {
    if (gunzipFailed) throw fail(ctx, line, `${step.archive} is not a gzip archive.`, 'Map the download to a .tar.gz package.');
    throw error;
  }
}
