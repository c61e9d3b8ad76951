import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { nativeBlockers, parseDockerfile } from '../../dockerfile/parse';
import { dirOf, type RepoFiles } from './repo-files';

/** A Dockerfile of the repository and what import-repo needs to know about it. */
export interface DockerfileInfo {
  /** Workspace-relative path. */
  path: string;
  /** Its folder: the build context, as `docker build -f <path> <dir>` would use. */
  dir: string;
  /** `controller` for Dockerfile.controller, Dockerfile-controller or controller.Dockerfile; undefined for a plain Dockerfile. */
  suffix?: string;
  /** COPY/ADD sources of the final stage (not --from), relative to the context, without variables or globs. */
  copySources: string[];
  /** Lines the native engine cannot build (RUN, COPY --from...), as "line N: reason". */
  nativeBlockers: string[];
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

export function readDockerfile(repo: RepoFiles, path: string): DockerfileInfo {
  const suffix = dockerfileSuffix(posix.basename(path));
  const info: DockerfileInfo = { path, dir: dirOf(path), ...(suffix ? { suffix } : {}), copySources: [], nativeBlockers: [] };
  try {
    const parsed = parseDockerfile(repo.read(path), path);
    for (const instruction of parsed.instructions) {
      if (instruction.kind !== 'COPY' && instruction.kind !== 'ADD') continue;
      // COPY --from reads another stage, not the context.
      if (instruction.flags.from !== undefined) continue;
      for (const raw of instruction.rawSources) {
        const source = plainSource(raw);
        if (source !== undefined && !info.copySources.includes(source)) info.copySources.push(source);
      }
    }
    info.nativeBlockers = nativeBlockers(parsed).map((b) => `line ${b.line}: ${b.reason}`);
  } catch (error) {
    info.problem = error instanceof MultiarchError ? error.message : String(error);
  }
  return info;
}

export function findDockerfiles(repo: RepoFiles): DockerfileInfo[] {
  return repo.files.filter((f) => dockerfileSuffix(posix.basename(f)) !== undefined).map((f) => readDockerfile(repo, f));
}
