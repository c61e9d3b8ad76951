import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { constants, gunzipSync } from 'node:zlib';
import { gunzipStream } from '../../oci/gzip';
import { readTarStream } from '../../oci/tar';
import { headOf, readFileHead, readFileSource, writeFileSource, type FileSource } from '../../oci/file-source';
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
 * - ADD extracts a local tar or tar.gz archive into the destination (streamed:
 *   each file goes to the extract folder and reaches the layer from disk);
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

/** Compressed bytes read to see whether a gzip file holds a tar: its first header comes out of far fewer. */
const GZIP_PEEK_BYTES = 64 * 1024;

/**
 * Docker decides by content, not by name, whether ADD extracts a file: a tar,
 * or a gzip whose content starts with a tar header. Only the file's first
 * bytes are read to decide; the extraction streams.
 */
async function archiveKind(source: FileSource, head: Buffer): Promise<ArchiveKind> {
  if (isTar(head)) return 'tar';
  if (head.length > 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      // A sync flush gives what the bytes read so far decompress to, without asking for the rest.
      const start = gunzipSync(await readFileHead(source.path, GZIP_PEEK_BYTES), { finishFlush: constants.Z_SYNC_FLUSH });
      return isTar(start) ? 'tar.gz' : undefined;
    } catch {
      return undefined;
    }
  }
  const bzip2 = head.subarray(0, 3).toString('latin1') === 'BZh';
  const xz = head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  return bzip2 || xz ? 'unsupported' : undefined;
}

/** The archive's tar as a stream, read from disk as it was listed (a file that changes meanwhile fails). */
function archiveTar(source: FileSource, kind: 'tar' | 'tar.gz'): Readable {
  const raw = Readable.from(readFileSource(source));
  return kind === 'tar' ? raw : gunzipStream(raw);
}

/** Runs a RUN/ADD download step against workspace packages (fetch-files.ts); absent, such steps are refused. */
export type Fetcher = (operation: FetchOperation) => Promise<ArchiveEntry[]>;

export class StageFiles implements StageState {
  private readonly entries = new Map<string, LayerEntry>();
  /** Files extracted from ADD archives so far (their names in the extract folder). */
  private extractedFiles = 0;

  constructor(
    private readonly context: BuildContext,
    private readonly target: PlatformSpec,
    /** How RUN idioms are carried out; without it a RUN operation is refused. */
    private readonly runEnvironment?: RunEnvironment,
    readonly scratch: boolean = false,
    private readonly fetcher?: Fetcher,
    /** Where ADD extracts archives to; the files must stay there until the layer is written. */
    private readonly extractDir?: string,
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
        if (entry.type === 'file') {
          this.checkElf(await headOf(entry), `/${entry.path} (downloaded by ${operation.keyword} on line ${operation.line})`);
        }
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
      const kind = op.keyword === 'ADD' && file.source ? await archiveKind(file.source, file.head ?? Buffer.alloc(0)) : undefined;
      if (kind === 'unsupported') {
        throw new MultiarchError(
          `${where}: ${match.path} is a bzip2 or xz archive, which the native engine does not extract.`,
          'Use a .tar or .tar.gz, COPY it without extracting, or use engine "docker".',
        );
      }
      if (kind && file.source) {
        await this.extract(archiveTar(file.source, kind), op, `${match.path} (${where})`);
        continue;
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

  /**
   * Extracts an archive ADD names into the destination, streaming: each file
   * is written to the extract folder and enters the layer as a file on disk,
   * like a copied one, so an archive of any size passes through a few MB.
   */
  private async extract(tar: Readable, op: CopyOperation, what: string): Promise<void> {
    const extractDir = this.extractDir;
    if (!extractDir) {
      tar.destroy();
      throw new MultiarchError(`${what}: no folder to extract the archive into.`, 'Build the image with docker-arch-build (the native engine gives ADD a folder for its archives).');
    }
    await readTarStream(tar, async (entry, content) => {
      // readTarStream has refused an entry that climbs (../) and made every path relative: it stays under dest.
      const imagePath = posix.join(op.dest, entry.path);
      const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'directory' ? DIR_MODE : 0o644)) & 0o7777;
      if (entry.type !== 'file') {
        this.put(withOwner({ ...entry, path: imagePath, mode }, op.owner));
        return;
      }
      const { source, head } = await writeFileSource(content ?? Readable.from([]), join(extractDir, String(this.extractedFiles++)));
      this.checkElf(head, `${entry.path} in ${what}`);
      this.put(withOwner({ ...entry, path: imagePath, mode, source }, op.owner));
    });
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
  run?: { environment?: RunEnvironment; scratch?: boolean; fetcher?: Fetcher; extractDir?: string },
): Promise<LayerEntry[]> {
  const files = new StageFiles(context, target, run?.environment, run?.scratch ?? false, run?.fetcher, run?.extractDir);
  for (const operation of operations) await files.apply(operation);
  return files.list();
}
