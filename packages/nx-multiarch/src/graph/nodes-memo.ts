import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { ancestorsOf, findGoModuleRoot } from '../project/go-module';
import { probesHold, type ExistenceProbes } from './existence-probes';
import { factFileHashes, type FileData } from './fact-files';

/**
 * createNodes memoised per project, as Nx's own plugins (@nx/js, @nx/docker)
 * do: a project's result is keyed by the hash of every file its facts are
 * read from, the plugin options and the inference code itself, and kept in
 * Nx's workspace data folder. Nx hashes the files (it already knows their
 * content hashes), so a graph computation with nothing changed reads no file
 * of the projects at all. What inference learns from a file's existence
 * alone (a Dockerfile's COPY sources) is kept with the result and checked
 * again before it is reused (existence-probes.ts).
 */

/** The parts of Nx's internal devkit used here; read at run time (they are not in the public API). */
interface NxInternals {
  hashMultiGlobWithWorkspaceContext(workspaceRoot: string, globGroups: string[][]): Promise<string[]>;
  workspaceDataDirectory: string;
}

function nxInternals(): NxInternals | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const internals = require('nx/src/devkit-internals') as Partial<NxInternals>;
    if (typeof internals.hashMultiGlobWithWorkspaceContext !== 'function' || typeof internals.workspaceDataDirectory !== 'string') return undefined;
    return internals as NxInternals;
  } catch {
    return undefined;
  }
}

/** Nx's list of every workspace file with its content hash (the same context the glob hashing reads), where this Nx has it. */
function nxFileData(): ((workspaceRoot: string) => Promise<FileData[]>) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const context = require('nx/src/utils/workspace-context') as { getAllFileDataInContext?: (workspaceRoot: string) => Promise<FileData[]> };
    return typeof context.getAllFileDataInContext === 'function' ? context.getAllFileDataInContext : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The hash of each root's fact files: from Nx's file list in one pass
 * (fact-files.ts), or, on an Nx without that list, with one glob group per
 * root (which costs Nx a pass over every workspace file per root).
 */
async function factHashes(nx: NxInternals, workspaceRoot: string, roots: readonly string[]): Promise<string[]> {
  const fileData = nxFileData();
  if (fileData) return factFileHashes(workspaceRoot, await fileData(workspaceRoot), roots);
  return nx.hashMultiGlobWithWorkspaceContext(workspaceRoot, roots.map((root) => factInputGlobs(workspaceRoot, root)));
}

const glob = (dir: string, pattern: string) => (dir === '' ? pattern : posix.join(dir, pattern));

/**
 * Every file readProjectFacts may read for the project at `root`: its own
 * files, its src/main.rs and src/bin, its integration folder, the go.mod and
 * Cargo.toml of each folder above it (module and Cargo workspace roots), and
 * the Go files of its module (their //go:embed lines).
 */
export function factInputGlobs(workspaceRoot: string, root: string): string[] {
  const globs = [glob(root, '*'), glob(root, 'src/main.rs'), glob(root, 'src/bin/**/*'), glob(root, 'integration/**/*')];
  for (const dir of ancestorsOf(root).slice(1)) globs.push(glob(dir, 'go.mod'), glob(dir, 'Cargo.toml'));
  const moduleRoot = findGoModuleRoot(workspaceRoot, root);
  if (moduleRoot !== undefined) globs.push(glob(moduleRoot, '**/*.go'));
  return globs;
}

let codeFingerprint: string | undefined;

/** A hash of the inference code (this folder and project/): a plugin upgrade or edit never reuses old results. */
function inferenceCodeFingerprint(): string {
  if (codeFingerprint) return codeFingerprint;
  const hash = createHash('sha256');
  for (const dir of [__dirname, join(__dirname, '..', 'project')]) {
    for (const name of readdirSync(dir).sort()) {
      if (/\.(ts|js)$/.test(name) && !/\.test\./.test(name)) hash.update(name).update(readFileSync(join(dir, name)));
    }
  }
  codeFingerprint = hash.digest('hex');
  return codeFingerprint;
}

/** What is kept per project: its result, the name its project.json or package.json gives (names are made unique across projects afterwards), and the existence checks it was inferred from. */
export interface MemoEntry {
  result: CreateNodesResult;
  declaredName?: string;
  /** project.json's targets, for the workspace-wide step that reads other projects' (narrow-image-deps.ts). */
  declaredTargets?: Record<string, TargetConfiguration>;
  probes: ExistenceProbes;
}

type Memo = Record<string, MemoEntry>;

export interface NodesMemo {
  /** The key of each root, in the order given. */
  keys: string[];
  /** The kept entry, unless it is absent or one of its existence probes now finds otherwise. */
  lookup(key: string): MemoEntry | undefined;
  /** Keeps these entries (and only these: entries of removed or changed projects are dropped). */
  save(entries: Memo): void;
}

/**
 * Opens the memo for these roots, or undefined where Nx offers no file
 * hashing (an older Nx, or a call outside a workspace): then every project is
 * read afresh, which is always correct.
 */
export async function openNodesMemo(workspaceRoot: string, roots: readonly string[], options: unknown): Promise<NodesMemo | undefined> {
  const nx = nxInternals();
  if (!nx || roots.length === 0) return undefined;
  let fileHashes: string[];
  try {
    fileHashes = await factHashes(nx, workspaceRoot, roots);
  } catch {
    return undefined;
  }
  const common = createHash('sha256').update(inferenceCodeFingerprint()).update(JSON.stringify(options ?? {})).digest('hex');
  const keys = roots.map((root, i) => createHash('sha256').update(common).update(root).update(fileHashes[i]).digest('hex'));
  const path = join(nx.workspaceDataDirectory, `nx-multiarch-nodes-${common.slice(0, 16)}.json`);
  let memo: Memo = {};
  try {
    memo = JSON.parse(readFileSync(path, 'utf8')) as Memo;
  } catch {
    // No memo yet, or one a crash left unreadable: start empty.
  }
  // An entry whose probes no longer hold is inferred again under the same key: the file must then be written.
  let staleProbes = false;
  return {
    keys,
    lookup(key) {
      const entry = memo[key];
      if (entry === undefined) return undefined;
      if (probesHold(workspaceRoot, entry.probes)) return entry;
      staleProbes = true;
      return undefined;
    },
    save(results) {
      const unchanged = !staleProbes && Object.keys(results).length === Object.keys(memo).length && Object.keys(results).every((key) => key in memo);
      if (unchanged) return;
      try {
        mkdirSync(nx.workspaceDataDirectory, { recursive: true });
        // Written aside and renamed, so a concurrent graph computation never reads half a file.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(results));
        renameSync(tmp, path);
      } catch {
        // A memo that cannot be written costs time on the next run, never correctness.
      }
    },
  };
}
