import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { MultiarchError } from '../errors';
import { STAGED_ROOT, type ResolvedItem } from '../dockerfile/stage-graph';
import { producerOf, type ProducerOptions } from './stage-producers';
import { runFetchSteps } from './native/fetch-files';
import type { DownloadMap } from '../dockerfile/download-map';
import type { ArchiveEntry } from '../oci/tar';
import { writeFile } from 'node:fs/promises';
import { makeSystemTempDir } from '../util/system-temp';

/**
 * Puts what the final stage copies out of earlier stages into the scratch
 * context, at `STAGED_ROOT/<stage>/<path in that stage>`: a compiled binary
 * from the producing project's `dist/cross/<project>/<arch>/`, a context file
 * from the scratch context itself (so .dockerignore applies, as it does to a
 * build stage's COPY). The rewritten COPY lines read exactly those paths.
 */

export interface StageOutputsOptions extends ProducerOptions {
  arch: string;
  /** The scratch copy of the context (absolute). */
  scratchDir: string;
  items: readonly ResolvedItem[];
  /** The downloads option, for items a download step of a stage leaves. */
  downloads?: DownloadMap;
}

/** Writes the entries of a download step's tree at or below `stagePath` to `dest`; how many were written. */
async function writeFetched(entries: readonly ArchiveEntry[], stagePath: string, dest: string): Promise<number> {
  const inStage = stagePath.replace(/^\/+/, '');
  let written = 0;
  for (const entry of entries) {
    if (entry.path !== inStage && !entry.path.startsWith(`${inStage}/`)) continue;
    const target = join(dest, ...entry.path.slice(inStage.length).split('/').filter(Boolean));
    if (entry.type === 'directory') {
      await mkdir(target, { recursive: true });
    } else if (entry.type === 'symlink') {
      await mkdir(dirname(target), { recursive: true });
      await symlink(entry.linkTarget ?? '', target);
    } else {
      await mkdir(dirname(target), { recursive: true });
      // A package or an extracted file is on disk already; a checksum file is in memory.
      if (entry.source) await copyFile(entry.source.path, target);
      else await writeFile(target, entry.content ?? Buffer.alloc(0));
      await chmod(target, (entry.mode ?? 0o644) & 0o777);
    }
    written++;
  }
  return written;
}

export interface StagedStageOutput {
  item: ResolvedItem;
  /** Workspace-relative artifact (go/cargo), or `context:<path>`. */
  source: string;
  /** The producing project, for go/cargo items. */
  project?: string;
  target?: string;
}

/** Copies a file or folder, never writing through a hard link of the scratch context (new names only). */
async function copyTree(src: string, dest: string): Promise<void> {
  const info = await lstat(src);
  await mkdir(dirname(dest), { recursive: true });
  if (info.isDirectory()) {
    await mkdir(dest, { recursive: true });
    for (const name of (await readdir(src)).sort()) await copyTree(join(src, name), join(dest, name));
  } else if (info.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
  } else {
    await copyFile(src, dest);
    await chmod(dest, info.mode & 0o777);
  }
}

export async function stageOutputs(options: StageOutputsOptions): Promise<StagedStageOutput[]> {
  // What download steps extract waits here until it is copied into the stage's folder.
  const extractDir = await makeSystemTempDir('extract');
  try {
    return await stageItems(options, extractDir);
  } finally {
    await rm(extractDir, { recursive: true, force: true });
  }
}

async function stageItems(options: StageOutputsOptions, extractDir: string): Promise<StagedStageOutput[]> {
  const staged: StagedStageOutput[] = [];
  // One run per download line, whatever number of its files the final stage copies.
  const fetched = new Map<number, ArchiveEntry[]>();
  for (const item of options.items) {
    const dest = join(options.scratchDir, STAGED_ROOT, item.stage, ...item.stagePath.split('/').filter(Boolean));
    if (item.origin.kind === 'download') {
      const origin = item.origin;
      const entries =
        fetched.get(origin.line) ??
        (await runFetchSteps(origin.steps, origin.line, { workspaceRoot: options.workspaceRoot, arch: options.arch, downloads: options.downloads ?? {}, dockerfileName: options.dockerfileLabel, extractDir }));
      fetched.set(origin.line, entries);
      if ((await writeFetched(entries, item.stagePath, dest)) === 0) {
        throw new MultiarchError(
          `${options.dockerfileLabel}: stage ${item.stage} has nothing at ${item.stagePath} after the download on line ${origin.line} (it leaves ${entries.filter((e) => e.type === 'file').map((e) => `/${e.path}`).join(', ') || 'no files'}).`,
          'Copy a path the download step writes or extracts (check --strip-components and the -C folder).',
        );
      }
      staged.push({ item, source: `download on line ${origin.line}` });
      continue;
    }
    if (item.origin.kind === 'context') {
      const src = join(options.scratchDir, ...item.origin.path.split('/').filter(Boolean));
      if (!(await stat(src).then(() => true, () => false))) {
        throw new MultiarchError(
          `${options.dockerfileLabel}: stage ${item.stage} copies ${item.origin.path || '.'} from the build context, which has no such file (or .dockerignore excludes it).`,
          'Check the path (it is relative to the context folder, see the context option).',
        );
      }
      await copyTree(src, dest);
      staged.push({ item, source: `context:${item.origin.path || '.'}` });
      continue;
    }
    const producer = producerOf(item.origin, options);
    const dir = posix.join('dist', 'cross', producer.project, options.arch);
    let found: string | undefined;
    for (const name of producer.fileNames) {
      if (await stat(join(options.workspaceRoot, dir, name)).then((s) => s.isFile(), () => false)) {
        found = name;
        break;
      }
    }
    if (found === undefined) {
      throw new MultiarchError(
        `${options.dockerfileLabel} line ${item.origin.line}: ${producer.project}'s ${producer.target} output ${dir}/${producer.fileNames[0]} does not exist (needed for ${item.stagePath} of stage ${item.stage}, --arch=${options.arch}).`,
        `Build it first: nx run ${producer.project}:${producer.target} --arch=${options.arch}. The inferred docker-arch-build depends on it through the graph edge the Dockerfile gives.`,
      );
    }
    await copyTree(join(options.workspaceRoot, dir, found), dest);
    staged.push({ item, source: `${dir}/${found}`, project: producer.project, target: producer.target });
  }
  return staged;
}
