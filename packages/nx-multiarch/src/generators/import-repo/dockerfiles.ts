import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { nativeBlockers, parseDockerfile, type NativeBlocker, type ParsedDockerfile } from '../../dockerfile/parse';
import { planStages, type ContextProbe } from '../../dockerfile/stage-graph';
import { PLATFORMS } from '../../platform/platforms';
import { dirOf, joinPath, type RepoFiles } from './repo-files';

/** A Dockerfile of the repository and what import-repo needs to know about it. */
export interface DockerfileInfo {
  /** Workspace-relative path. */
  path: string;
  /** Its folder, as `docker build -f <path> <dir>` would use. */
  dir: string;
  /**
   * The build context: its folder, or the repository root when the
   * Dockerfile's COPY sources (every stage) are there and not in its folder
   * (repositories that build with `docker buildx build <root> -f <file>`).
   */
  context: string;
  /** `controller` for Dockerfile.controller, Dockerfile-controller or controller.Dockerfile; undefined for a plain Dockerfile. */
  suffix?: string;
  /** COPY/ADD sources of the final stage (not --from), relative to the context, without variables or globs. */
  copySources: string[];
  /** Lines the native engine cannot build (RUN, COPY --from...), as "line N: reason". */
  nativeBlockers: string[];
  /** Go binaries its build stages compile (`go build -o <out> <pkg>`): the package's workspace-relative folder and the file name. */
  goOutputs: Array<{ dir: string; name: string }>;
  /** Set when the file could not be parsed; the image is still configured, without artifacts. */
  problem?: string;
}

/** The image name a Dockerfile's file name carries, '' for a plain Dockerfile, undefined for no Dockerfile. */
export function dockerfileSuffix(fileName: string): string | undefined {
  if (/\.dockerignore$/i.test(fileName)) return undefined;
  if (/^dockerfile$/i.test(fileName)) return '';
  const suffix = /^dockerfile[.-]([A-Za-z0-9][A-Za-z0-9._-]*)$/i.exec(fileName)?.[1] ?? /^([A-Za-z0-9][A-Za-z0-9._-]*)\.dockerfile$/i.exec(fileName)?.[1];
  return suffix;
}

/** `./bin/x` and `/bin/x` both name bin/x in the context; variables and globs cannot be resolved here. */
function plainSource(raw: string): string | undefined {
  if (/[$*?[\]]/.test(raw) || /^(https?:\/\/|git@)/.test(raw)) return undefined;
  const clean = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '');
  return clean === '.' || clean.startsWith('..') ? undefined : clean;
}

function probe(repo: RepoFiles, context: string): ContextProbe {
  return (path) => {
    const full = joinPath(context, path);
    if (repo.has(full)) return 'file';
    return full === '' || repo.files.some((f) => f.startsWith(`${full}/`)) ? 'dir' : undefined;
  };
}

/** Context sources of every stage (not --from), as written. */
function allContextSources(parsed: ParsedDockerfile): string[] {
  return parsed.stages.flatMap((stage) =>
    stage.instructions.flatMap((i) => ((i.kind === 'COPY' || i.kind === 'ADD') && i.flags.from === undefined ? i.rawSources.map(plainSource) : [])).filter((s): s is string => s !== undefined),
  );
}

function contextOf(repo: RepoFiles, parsed: ParsedDockerfile, dir: string): string {
  if (parsed.stageCount < 2 || dir === repo.root) return dir;
  const sources = allContextSources(parsed);
  const inDir = probe(repo, dir);
  const inRoot = probe(repo, repo.root);
  return sources.length > 0 && !sources.every((s) => inDir(s)) && sources.every((s) => inRoot(s)) ? repo.root : dir;
}

/** What the native engine cannot build: for a multi-stage file, after its build stages are read (amd64 stands for every arch here). */
function readStages(repo: RepoFiles, parsed: ParsedDockerfile, context: string): { blockers: NativeBlocker[]; goOutputs: DockerfileInfo['goOutputs'] } {
  if (parsed.stageCount < 2) return { blockers: nativeBlockers(parsed), goOutputs: [] };
  const plan = planStages({ parsed, buildArgs: {}, target: PLATFORMS.amd64, probe: probe(repo, context) });
  const goOutputs = plan.items.flatMap((item) => (item.origin.kind === 'go' ? [{ dir: joinPath(context, item.origin.packageDir), name: posix.basename(item.stagePath) }] : []));
  const blockers = [...plan.blockers, ...nativeBlockers({ ...parsed, instructions: plan.instructions }).filter((b) => !plan.blockers.some((p) => p.line === b.line))];
  return { blockers, goOutputs };
}

export function readDockerfile(repo: RepoFiles, path: string): DockerfileInfo {
  const suffix = dockerfileSuffix(posix.basename(path));
  const info: DockerfileInfo = { path, dir: dirOf(path), context: dirOf(path), ...(suffix ? { suffix } : {}), copySources: [], nativeBlockers: [], goOutputs: [] };
  try {
    const parsed = parseDockerfile(repo.read(path), path);
    info.context = contextOf(repo, parsed, info.dir);
    for (const instruction of parsed.instructions) {
      if (instruction.kind !== 'COPY' && instruction.kind !== 'ADD') continue;
      // COPY --from reads another stage, not the context.
      if (instruction.flags.from !== undefined) continue;
      for (const raw of instruction.rawSources) {
        const source = plainSource(raw);
        if (source !== undefined && !info.copySources.includes(source)) info.copySources.push(source);
      }
    }
    const { blockers, goOutputs } = readStages(repo, parsed, info.context);
    info.nativeBlockers = blockers.map((b) => `line ${b.line}: ${b.reason}`);
    info.goOutputs = goOutputs;
  } catch (error) {
    info.problem = error instanceof MultiarchError ? error.message : String(error);
  }
  return info;
}

export function findDockerfiles(repo: RepoFiles): DockerfileInfo[] {
  return repo.files.filter((f) => dockerfileSuffix(posix.basename(f)) !== undefined).map((f) => readDockerfile(repo, f));
}
