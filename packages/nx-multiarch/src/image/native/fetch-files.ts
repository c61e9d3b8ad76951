import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { gunzip } from '../../oci/gzip';
import { readTar, type ArchiveEntry } from '../../oci/tar';
import { matchDownload, type DownloadMap, type DownloadMatch } from '../../dockerfile/download-map';
import { unmappedDownloadError, type FetchStep } from '../../dockerfile/fetch-steps';

/**
 * Runs the download steps of a stage (dockerfile/fetch-steps.ts) without a
 * network or a container: each download is served from the workspace
 * package it is mapped to (`dist/cross/<project>/<arch>/<name>.tar.gz` and
 * its `.txt`), and sha256sum -c, tar -x, mkdir, mv, rm and chmod act on an
 * in-memory file tree. What is left in the tree at the end is what the RUN
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
}

interface Node {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  content?: Buffer;
  linkTarget?: string;
}

interface WorkspacePackage {
  tarball: Buffer;
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
  const tarball = await readFile(join(ctx.workspaceRoot, folder, tarballs[0]));
  const stem = tarballs[0].slice(0, -'.tar.gz'.length);
  let text: string | undefined;
  for (const name of [`${stem}.txt`, `${tarballs[0]}.txt`]) {
    text = await readFile(join(ctx.workspaceRoot, folder, name), 'utf8').catch(() => undefined);
    if (text !== undefined) break;
  }
  if (text === undefined) throw fail(ctx, line, `the package ${folder}/${tarballs[0]} has no checksum file (${stem}.txt).`, build);
  const sha256 = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const actual = createHash('sha256').update(tarball).digest('hex');
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
        const content = match.role === 'package' ? pkg.tarball : Buffer.from(`${pkg.sha256}  ${packageNameOf(step.url)}\n`);
        tree.set(step.to, { type: 'file', mode: 0o644, content });
        break;
      }
      case 'sha256-check': {
        const list = tree.file(step.listFile);
        if (!list) throw fail(ctx, line, `sha256sum -c reads ${step.listFile}, which no step before it wrote.`, 'Download the checksum file first (curl -o <file> <url of the .txt>).');
        for (const row of (list.content as Buffer).toString('utf8').split('\n').filter((r) => r.trim() !== '')) {
          const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(row.trim());
          if (!m) throw fail(ctx, line, `sha256sum -c: ${step.listFile} has a line that is not "<sha256>  <file>": ${row.trim()}`, 'Check against a checksum file in sha256sum format.');
          checkHash(ctx, line, tree, m[1].toLowerCase(), posix.resolve(step.cwd, m[2]));
        }
        break;
      }
      case 'sha256-inline':
        checkHash(ctx, line, tree, step.sha256, step.file);
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

function checkHash(ctx: FetchContext, line: number, tree: FileTree, sha256: string, path: string): void {
  const file = tree.file(path);
  if (!file) throw fail(ctx, line, `sha256sum -c checks ${path}, which no step before it downloaded.`, 'Name the downloaded file in the checksum line (a release checksum names the release file: download it under that name, e.g. curl -O).');
  const actual = createHash('sha256').update(file.content as Buffer).digest('hex');
  if (actual !== sha256) {
    throw fail(
      ctx,
      line,
      `sha256sum -c: ${path} hashes to ${actual}, not ${sha256}.`,
      'A fixed sha256 in the Dockerfile names a published release, not the package the workspace builds: check against the downloaded checksum file (.txt) instead.',
    );
  }
}

async function extract(ctx: FetchContext, line: number, tree: FileTree, step: Extract<FetchStep, { op: 'extract' }>): Promise<void> {
  const archive = tree.file(step.archive);
  if (!archive) throw fail(ctx, line, `tar -x reads ${step.archive}, which no step before it downloaded.`, 'Extract the file the line downloaded.');
  const data = archive.content as Buffer;
  let tar: Buffer;
  try {
    tar = data[0] === 0x1f && data[1] === 0x8b ? gunzip(data) : data;
  } catch {
    throw fail(ctx, line, `${step.archive} is not a gzip archive.`, 'Map the download to a .tar.gz package.');
  }
  for (const entry of await readTar(tar)) {
    const parts = posix.normalize(entry.path).split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw fail(ctx, line, `${step.archive} has an entry ${entry.path} that points outside the folder.`, 'Rebuild the package.');
    const inner = parts.slice(step.strip);
    if (inner.length === 0) continue;
    const relative = inner.join('/');
    if (step.members.length > 0 && !step.members.some((m) => parts.join('/') === m.replace(/\/$/, '') || parts.join('/').startsWith(`${m.replace(/\/$/, '')}/`))) continue;
    const path = posix.join(step.dir, relative);
    if (entry.type === 'directory') tree.set(path, { type: 'directory', mode: (entry.mode ?? 0o755) & 0o7777 });
    else if (entry.type === 'symlink') tree.set(path, { type: 'symlink', mode: 0o777, linkTarget: entry.linkTarget ?? '' });
    else if (entry.type === 'file') tree.set(path, { type: 'file', mode: (entry.mode ?? 0o644) & 0o7777, content: entry.content ?? Buffer.alloc(0) });
    else throw fail(ctx, line, `${step.archive} has a hard link (${entry.path}), which this engine does not extract.`, 'Package without hard links.');
  }
}
