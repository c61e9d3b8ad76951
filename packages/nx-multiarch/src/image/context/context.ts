import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { fileSource, type FileSource } from '../../oci/file-source';
import { join, posix, relative, sep } from 'node:path';
import { MultiarchError } from '../../errors';
import { IgnoreMatcher } from './dockerignore';
import { globToRegExp, hasGlob, staticPrefix } from './glob';

/**
 * Read access to a build context folder for COPY and ADD, with Docker's
 * rules and two safety rules of our own: a source may not climb out of the
 * context (`../`), and a symlink that is followed (a source named directly or
 * matched by a glob) must point inside the context. Files excluded by
 * .dockerignore are not there, as for docker build.
 *
 * Modes are normalised so that the same sources give the same layer in any
 * checkout (umask differs between machines): files 0755 when any execute bit
 * is set, else 0644; folders 0755. COPY --chmod overrides them.
 */
export type ContextEntryType = 'file' | 'directory' | 'symlink';

export interface ContextEntry {
  /** Path relative to the source that was asked for ('' for the source itself). */
  path: string;
  type: ContextEntryType;
  mode: number;
  /** A file's bytes stay on disk (streamed into the layer); `head` holds the first few KB for sniffing (ELF, archives). */
  source?: FileSource;
  head?: Buffer;
  linkTarget?: string;
}

/** A COPY source after glob expansion. */
export interface ContextMatch {
  /** Context-relative path as matched (the name used in the image). */
  path: string;
  /** Absolute path to read, symlinks resolved. */
  realPath: string;
  isDirectory: boolean;
}

export const FILE_MODE = 0o644;
export const EXEC_MODE = 0o755;
export const DIR_MODE = 0o755;

export function normalizedMode(mode: number): number {
  return mode & 0o111 ? EXEC_MODE : FILE_MODE;
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

export class BuildContext {
  private constructor(
    /** The context folder as given. */
    readonly dir: string,
    /** The context folder with symlinks resolved, for the inside-the-context checks. */
    private readonly realDir: string,
    private readonly ignoreMatcher: IgnoreMatcher,
    /** Top folders the plugin itself staged into a scratch context: never subject to the user's .dockerignore. */
    private readonly neverIgnored: readonly string[] = [],
  ) {}

  /** Whether .dockerignore excludes a context path (what the plugin staged never is). */
  ignores(path: string): boolean {
    if (this.neverIgnored.some((top) => path === top || path.startsWith(`${top}/`))) return false;
    return this.ignoreMatcher.ignores(path);
  }

  get ignoreHasExceptions(): boolean {
    return this.ignoreMatcher.hasExceptions;
  }

  /**
   * Opens a context folder. `.dockerignore` is read from the context, or
   * `<Dockerfile>.dockerignore` beside the Dockerfile when that exists (as BuildKit does).
   */
  static async open(dir: string, dockerfile?: string, neverIgnored: readonly string[] = []): Promise<BuildContext> {
    let realDir: string;
    try {
      realDir = await realpath(dir);
      if (!(await stat(realDir)).isDirectory()) throw new Error('not a folder');
    } catch {
      throw new MultiarchError(`Build context ${dir} is not a folder.`, 'Set the context option to the folder COPY sources are relative to.');
    }
    const candidates = dockerfile ? [`${dockerfile}.dockerignore`, join(dir, '.dockerignore')] : [join(dir, '.dockerignore')];
    return new BuildContext(dir, realDir, await IgnoreMatcher.load(candidates), neverIgnored);
  }

  /** A source as written in COPY, to a context-relative path; refuses `../`. */
  normalizeSource(source: string, where: string): string {
    const normalized = posix.normalize(source.replace(/\\/g, '/')).replace(/^\/+/, '').replace(/\/+$/, '');
    if (normalized === '..' || normalized.startsWith('../')) {
      throw new MultiarchError(
        `${where}: source "${source}" is outside the build context.`,
        'COPY and ADD read only from the build context: stage the file into it (artifacts option) or widen the context option.',
      );
    }
    return normalized === '.' ? '' : normalized;
  }

  /** The real path of a context path, refusing symlinks that lead out of the context. */
  private async realPathInside(path: string, where: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(join(this.realDir, path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // A dangling symlink is reported as such, not as a missing file.
        const link = await lstat(join(this.realDir, path)).catch(() => undefined);
        if (link?.isSymbolicLink()) {
          const target = await readlink(join(this.realDir, path));
          throw new MultiarchError(`${where}: source "${path}" is a symlink to ${target}, which does not exist.`, 'Fix or remove the symlink.');
        }
        return undefined;
      }
      throw error;
    }
    if (!isInside(this.realDir, real)) {
      const target = await readlink(join(this.realDir, path)).catch(() => undefined);
      throw new MultiarchError(
        `${where}: source "${path}" is a symlink${target ? ` to ${target}` : ''} pointing outside the build context.`,
        'COPY does not follow symlinks out of the context: copy the file itself into the context (artifacts option) instead of linking to it.',
      );
    }
    return real;
  }

  /** Expands one COPY source (plain path or glob) to what it names; none found is an error. */
  async resolveSource(source: string, where: string): Promise<ContextMatch[]> {
    const path = this.normalizeSource(source, where);
    const paths = hasGlob(path) ? await this.expandGlob(path) : [path];
    const matches: ContextMatch[] = [];
    for (const candidate of paths) {
      if (this.ignores(candidate)) continue;
      const real = await this.realPathInside(candidate, where);
      if (real === undefined) continue;
      matches.push({ path: candidate, realPath: real, isDirectory: (await stat(real)).isDirectory() });
    }
    if (matches.length === 0) {
      const ignored = !hasGlob(path) && this.ignores(path);
      throw new MultiarchError(
        ignored
          ? `${where}: source "${source}" is excluded by .dockerignore in ${this.dir}.`
          : `${where}: source "${source}" was not found in the build context ${this.dir}.`,
        ignored
          ? 'Remove it from .dockerignore, or do not COPY it.'
          : 'Check the path (it is relative to the context folder); files built by another project are staged with the artifacts option.',
      );
    }
    return matches;
  }

  private async expandGlob(pattern: string): Promise<string[]> {
    const regex = globToRegExp(pattern);
    const start = staticPrefix(pattern);
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(join(this.realDir, dir));
      } catch {
        return;
      }
      for (const name of names.sort()) {
        const path = dir ? `${dir}/${name}` : name;
        if (regex.test(path)) found.push(path);
        const info = await lstat(join(this.realDir, path));
        // Symlinked folders are not walked into: a glob never leaves through a link.
        if (info.isDirectory() && !(this.ignores(path) && !this.ignoreHasExceptions)) await walk(path);
      }
    };
    await walk(start);
    return found;
  }

  /**
   * Everything under a matched source: the source itself (path '') and, for
   * a folder, every entry below it, not following symlinks (they are kept as
   * symlinks, as docker build keeps them).
   */
  async readTree(match: ContextMatch, where: string): Promise<ContextEntry[]> {
    if (!match.isDirectory) {
      const info = await stat(match.realPath);
      if (!info.isFile()) throw new MultiarchError(`${where}: source "${match.path}" is not a regular file or folder.`, 'COPY only regular files, folders and symlinks.');
      return [{ path: '', type: 'file', mode: normalizedMode(info.mode), ...(await fileSource(match.realPath)) }];
    }
    const entries: ContextEntry[] = [{ path: '', type: 'directory', mode: DIR_MODE }];
    const walk = async (realDir: string, rel: string): Promise<void> => {
      for (const name of (await readdir(realDir)).sort()) {
        const entryRel = rel ? `${rel}/${name}` : name;
        const contextPath = match.path ? `${match.path}/${entryRel}` : entryRel;
        const full = join(realDir, name);
        const info = await lstat(full);
        if (this.ignores(contextPath)) {
          if (info.isDirectory() && this.ignoreHasExceptions) await walk(full, entryRel);
          continue;
        }
        if (info.isSymbolicLink()) {
          entries.push({ path: entryRel, type: 'symlink', mode: 0o777, linkTarget: await readlink(full) });
        } else if (info.isDirectory()) {
          entries.push({ path: entryRel, type: 'directory', mode: DIR_MODE });
          await walk(full, entryRel);
        } else if (info.isFile()) {
          entries.push({ path: entryRel, type: 'file', mode: normalizedMode(info.mode), ...(await fileSource(full)) });
        } else {
          throw new MultiarchError(`${where}: "${contextPath}" is a socket, fifo or device.`, 'Remove it from the context or add it to .dockerignore.');
        }
      }
    };
    await walk(match.realPath, '');
    return entries;
  }

  /** A context-relative path for messages. */
  describe(absolute: string): string {
    return relative(this.realDir, absolute).split(sep).join('/');
  }
}
