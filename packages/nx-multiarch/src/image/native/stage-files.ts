import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { readTar } from '../../oci/tar';
import { gunzip } from '../../oci/gzip';
import { MultiarchError } from '../../errors';
import { checkElfArch } from '../../platform/elf';
import type { PlatformSpec } from '../../platform/platforms';
import { BuildContext, DIR_MODE, type ContextEntry } from '../context/context';
import type { CopyOperation, FetchOperation, FileOperation, Owner } from '../../dockerfile/evaluate-stage';
import type { ArchiveEntry } from '../../oci/tar';
import { layerPath, type LayerEntry } from '../../oci/layer';
import { applyRun, type RunEnvironment, type StageState } from './run-steps';

/**
 * Turns the stage's COPY, ADD and WORKDIR operations into the entries of the
 * one layer the native engine adds, reading sources from the build context
 * with Docker's rules:
 * - a folder source copies what it holds into the destination;
 * - a file goes to `<dest>/<name>` when the destination ends with `/`, else to `<dest>`;
 * - several sources (or a glob matching several) need a destination ending with `/`;
 * - ADD extracts a local tar or tar.gz archive into the destination;
 * - `--chmod` sets the mode of the files copied (folders keep 0755, so they stay usable);
 * - `--chown` sets the numeric owner of everything copied, the destination folder included.
 * Later operations win over earlier ones for the same path, as later layers would.
 * Every ELF file added is checked against the target arch.
 */

function withOwner(entry: LayerEntry, owner: Owner | undefined): LayerEntry {
  return owner ? { ...entry, uid: owner.uid, gid: owner.gid } : entry;
}

type ArchiveKind = 'tar' | 'tar.gz' | 'unsupported' | undefined;

function isTar(data: Buffer): boolean {
  return data.length >= 262 && data.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Whether a file's first bytes may start an archive ADD extracts (or refuses): only then is the whole file read. */
function mayBeArchive(head: Buffer): boolean {
  if (isTar(head) || (head.length > 2 && head[0] === 0x1f && head[1] === 0x8b)) return true;
  return head.subarray(0, 3).toString('latin1') === 'BZh' || head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
}

/** Docker decides by content, not by name, whether ADD extracts a file. */
function archiveKind(data: Buffer): { kind: ArchiveKind; tar?: Buffer } {
  if (isTar(data)) return { kind: 'tar', tar: data };
  if (data.length > 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      const tar = gunzip(data);
      return isTar(tar) ? { kind: 'tar.gz', tar } : { kind: undefined };
    } catch {
      return { kind: undefined };
    }
  }
  const bzip2 = data.subarray(0, 3).toString('latin1') === 'BZh';
  const xz = data.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  return { kind: bzip2 || xz ? 'unsupported' : undefined };
}

/** Runs a RUN/ADD download step against workspace packages (fetch-files.ts); absent, such steps are refused. */
export type Fetcher = (operation: FetchOperation) => Promise<ArchiveEntry[]>;

export class StageFiles implements StageState {
  private readonly entries = new Map<string, LayerEntry>();

  constructor(
    private readonly context: BuildContext,
    private readonly target: PlatformSpec,
    /** How RUN idioms are carried out; without it a RUN operation is refused. */
    private readonly runEnvironment?: RunEnvironment,
    readonly scratch: boolean = false,
    private readonly fetcher?: Fetcher,
  ) {}

  get(path: string): LayerEntry | undefined {
    return this.entries.get(layerPath(path));
  }

  hasDirectory(path: string): boolean {
    const dir = layerPath(path);
    if (this.entries.get(dir)?.type === 'directory') return true;
    for (const key of this.entries.keys()) if (key.startsWith(`${dir}/`)) return true;
    return false;
  }

  put(entry: LayerEntry): void {
    const path = layerPath(entry.path);
    if (path === '' || path === '.') return; // the image root itself is never an entry
    this.entries.set(path, { ...entry, path });
  }

  private checkElf(content: Buffer, what: string): void {
    checkElfArch(content, this.target, what);
  }

  async apply(operation: FileOperation): Promise<void> {
    if (operation.op === 'mkdir') {
      this.put(withOwner({ path: operation.path, type: 'directory', mode: DIR_MODE }, operation.owner));
      return;
    }
    if (operation.op === 'run') {
      if (!this.runEnvironment) throw new MultiarchError(`Line ${operation.line}: RUN is not carried out here.`, 'Build the image with docker-arch-build.');
      await applyRun(operation, this, this.runEnvironment);
      return;
    }
    if (operation.op === 'fetch') {
      if (!this.fetcher) throw new MultiarchError(`${operation.keyword} on line ${operation.line} downloads at build time.`, 'Map the download to a workspace target with the downloads option, or use engine "docker".');
      for (const entry of await this.fetcher(operation)) {
        if (entry.type === 'file') this.checkElf(entry.content ?? Buffer.alloc(0), `/${entry.path} (downloaded by ${operation.keyword} on line ${operation.line})`);
        this.put(entry);
      }
      return;
    }
    await this.copy(operation);
  }

  private async copy(op: CopyOperation): Promise<void> {
    const where = `${op.keyword} on line ${op.line}`;
    const matched = [];
    for (const source of op.sources) {
      for (const match of await this.context.resolveSource(source, where)) matched.push(match);
    }
    if ((op.sources.length > 1 || matched.length > 1) && !op.destIsDir) {
      throw new MultiarchError(
        `${where}: ${matched.length} sources (${matched.map((m) => m.path).join(', ')}) but the destination ${op.dest} does not end with /.`,
        'With several sources the destination must be a folder: end it with /.',
      );
    }
    for (const match of matched) {
      const tree = await this.context.readTree(match, where);
      if (match.isDirectory) {
        for (const entry of tree) this.putCopied(entry, posix.join(op.dest, entry.path), op, `${match.path}/${entry.path}`);
        continue;
      }
      const file = tree[0];
      if (op.keyword === 'ADD' && file.source && mayBeArchive(file.head ?? Buffer.alloc(0))) {
        // An archive ADD extracts is read whole, as before; any other file stays on disk until the layer streams it.
        const archive = archiveKind(await readFile(file.source.path));
        if (archive.kind === 'unsupported') {
          throw new MultiarchError(
            `${where}: ${match.path} is a bzip2 or xz archive, which the native engine does not extract.`,
            'Use a .tar or .tar.gz, COPY it without extracting, or use engine "docker".',
          );
        }
        if (archive.tar) {
          await this.extract(archive.tar, op, `${match.path} (${where})`);
          continue;
        }
      }
      const dest = op.destIsDir ? posix.join(op.dest, posix.basename(match.path)) : op.dest;
      this.putCopied(file, dest, op, match.path);
    }
  }

  private putCopied(entry: ContextEntry, imagePath: string, op: CopyOperation, contextPath: string): void {
    const where = `${contextPath.replace(/\/$/, '')} (${op.keyword} on line ${op.line})`;
    if (entry.type === 'file') {
      this.checkElf(entry.head ?? Buffer.alloc(0), where);
      const mode = op.chmod ?? entry.mode;
      this.put(withOwner({ path: imagePath, type: 'file', mode, ...(entry.source ? { source: entry.source } : {}) }, op.owner));
    } else if (entry.type === 'directory') {
      this.put(withOwner({ path: imagePath, type: 'directory', mode: DIR_MODE }, op.owner));
    } else {
      this.put(withOwner({ path: imagePath, type: 'symlink', mode: 0o777, linkTarget: entry.linkTarget }, op.owner));
    }
  }

  private async extract(tar: Buffer, op: CopyOperation, what: string): Promise<void> {
    for (const entry of await readTar(tar)) {
      const path = posix.normalize(entry.path);
      if (path === '..' || path.startsWith('../') || posix.isAbsolute(path)) {
        throw new MultiarchError(`${what}: archive entry ${entry.path} points outside the destination.`, 'Fix the archive.');
      }
      const imagePath = posix.join(op.dest, path);
      if (entry.type === 'file') this.checkElf(entry.content ?? Buffer.alloc(0), `${entry.path} in ${what}`);
      const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'directory' ? DIR_MODE : 0o644)) & 0o7777;
      this.put(withOwner({ ...entry, path: imagePath, mode }, op.owner));
    }
  }

  /** The collected entries (paths relative to the image root). */
  list(): LayerEntry[] {
    return [...this.entries.values()];
  }
}

/** Applies every file operation of the stage, in order. */
export async function collectStageFiles(
  operations: readonly FileOperation[],
  context: BuildContext,
  target: PlatformSpec,
  run?: { environment?: RunEnvironment; scratch?: boolean; fetcher?: Fetcher },
): Promise<LayerEntry[]> {
  const files = new StageFiles(context, target, run?.environment, run?.scratch ?? false, run?.fetcher);
  for (const operation of operations) await files.apply(operation);
  return files.list();
}
