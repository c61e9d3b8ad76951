import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ancestorsOf, findGoModuleRoot } from '../project/go-module';

/**
 * The files readProjectFacts may read for each project, picked from Nx's
 * list of every workspace file and its content hash (nodes-memo keys each
 * project's createNodes result by them). It selects the same files as the
 * globs of factInputGlobs, but in one pass over an index instead of one glob
 * pass over the whole workspace per project, which grew as projects x files:
 * 0.26 s of Nx's hashing for 300 projects, and quadratic beyond.
 */
export interface FileData {
  /** Workspace-relative, POSIX separators. */
  file: string;
  hash: string;
}

export class FileIndex {
  private readonly sorted: FileData[];
  private readonly byPath = new Map<string, FileData>();
  private readonly byDir = new Map<string, FileData[]>();

  constructor(files: readonly FileData[]) {
    this.sorted = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    for (const entry of this.sorted) {
      this.byPath.set(entry.file, entry);
      const dir = posix.dirname(entry.file);
      const key = dir === '.' ? '' : dir;
      const list = this.byDir.get(key);
      if (list) list.push(entry);
      else this.byDir.set(key, [entry]);
    }
  }

  get(path: string): FileData | undefined {
    return this.byPath.get(path);
  }

  /** Files directly in `dir` ('' is the workspace root), as `<dir>/*` matches them. */
  children(dir: string): readonly FileData[] {
    return this.byDir.get(dir) ?? [];
  }

  /** Files anywhere below `dir` ('' is everything), as `<dir>/**\/*` matches them. */
  under(dir: string): FileData[] {
    if (dir === '') return this.sorted;
    const prefix = `${dir}/`;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].file < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: FileData[] = [];
    for (let i = lo; i < this.sorted.length && this.sorted[i].file.startsWith(prefix); i++) found.push(this.sorted[i]);
    return found;
  }
}

const at = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/**
 * The project's own fact files: its folder's files, src/main.rs, src/bin and
 * integration below it, and the go.mod and Cargo.toml of each folder above it.
 * The Go files of its module (for //go:embed) are moduleGoFiles.
 */
export function ownFactFiles(index: FileIndex, root: string): FileData[] {
  const files: (FileData | undefined)[] = [...index.children(root), index.get(at(root, 'src/main.rs')), ...index.under(at(root, 'src/bin')), ...index.under(at(root, 'integration'))];
  for (const dir of ancestorsOf(root).slice(1)) files.push(index.get(at(dir, 'go.mod')), index.get(at(dir, 'Cargo.toml')));
  return files.filter((f): f is FileData => f !== undefined);
}

export function moduleGoFiles(index: FileIndex, moduleRoot: string): FileData[] {
  return index.under(moduleRoot).filter((f) => f.file.endsWith('.go'));
}

const digest = (files: readonly FileData[]) => {
  const hash = createHash('sha256');
  for (const f of files) hash.update(f.file).update('\0').update(f.hash).update('\n');
  return hash.digest('hex');
};

/**
 * One hash per root of every fact file, in the order of `roots`. A Go
 * module's files are hashed once and shared by the mains of that module.
 */
export function factFileHashes(workspaceRoot: string, files: readonly FileData[], roots: readonly string[]): string[] {
  const index = new FileIndex(files);
  const byModule = new Map<string, string>();
  return roots.map((root) => {
    // Found on disk, as readProjectFacts finds it.
    const moduleRoot = findGoModuleRoot(workspaceRoot, root);
    let moduleHash = '';
    if (moduleRoot !== undefined) {
      moduleHash = byModule.get(moduleRoot) ?? digest(moduleGoFiles(index, moduleRoot));
      byModule.set(moduleRoot, moduleHash);
    }
    return createHash('sha256').update(digest(ownFactFiles(index, root))).update(moduleHash).digest('hex');
  });
}
