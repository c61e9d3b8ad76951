import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { dockerfileUrls } from '../../dockerfile/download-map';
import { parseDockerfile, type ParsedDockerfile } from '../../dockerfile/parse';
import { dirOf, type RepoFiles } from './repo-files';

/** A Dockerfile of the repository and what import-repo needs to know about it. */
export interface DockerfileInfo {
  /** Workspace-relative path. */
  path: string;
  /** Its folder. */
  dir: string;
  /**
   * The build context: the Dockerfile's folder, or the folder above it (up to the
   * repository root) where its COPY sources exist; set by planning.
   */
  context?: string;
  /** `controller` for Dockerfile.controller, Dockerfile-controller or controller.Dockerfile; undefined for a plain Dockerfile. */
  suffix?: string;
  /** COPY/ADD sources of the final stage (not --from), relative to the context, without variables or globs. */
  copySources: string[];
  /** COPY/ADD sources of every stage (not --from): where they exist tells the context. */
  allCopySources: string[];
  /**
   * The final stage is a bundle of binaries for other systems (FROM scratch, no
   * ENTRYPOINT or CMD, darwin/windows files): an export stage, not an image.
   */
  bundle: boolean;
  /** The first comment lines, which may mark the file as for development only. */
  headerComments: string;
  /** URLs the Dockerfile's text may download (variables as written): what a downloads entry may map. */
  urls: string[];
  /** Every stage, parsed (undefined when the file could not be parsed): planning reads the build stages. */
  parsed?: ParsedDockerfile;
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

const OTHER_SYSTEMS = /darwin|windows|\.exe\b|macos/i;

/** Sources of every stage's COPY/ADD without --from, and whether the final stage is a bundle for other systems. */
function scanStages(parsed: ParsedDockerfile): { allCopySources: string[]; bundle: boolean } {
  const all: string[] = [];
  for (const stage of parsed.stages) {
    for (const instruction of stage.instructions) {
      if ((instruction.kind !== 'COPY' && instruction.kind !== 'ADD') || instruction.flags.from !== undefined) continue;
      for (const raw of instruction.rawSources) {
        const source = plainSource(raw);
        if (source !== undefined && !all.includes(source)) all.push(source);
      }
    }
  }
  const final = parsed.stages[parsed.stages.length - 1];
  const runs = final.instructions.some((i) => i.kind === 'ENTRYPOINT' || i.kind === 'CMD');
  const copied = final.instructions.flatMap((i) => (i.kind === 'COPY' || i.kind === 'ADD' ? [...i.rawSources, i.rawDest] : []));
  return { allCopySources: all, bundle: final.rawImage.toLowerCase() === 'scratch' && !runs && copied.some((w) => OTHER_SYSTEMS.test(w)) };
}

export function readDockerfile(repo: RepoFiles, path: string): DockerfileInfo {
  const suffix = dockerfileSuffix(posix.basename(path));
  const text = repo.read(path);
  const headerComments = text
    .split('\n')
    .slice(0, 10)
    .filter((l) => l.trimStart().startsWith('#'))
    .join('\n');
  const info: DockerfileInfo = { path, dir: dirOf(path), ...(suffix ? { suffix } : {}), copySources: [], allCopySources: [], bundle: false, headerComments, urls: dockerfileUrls(text) };
  try {
    const parsed = parseDockerfile(text, path);
    info.parsed = parsed;
    Object.assign(info, scanStages(parsed));
    for (const instruction of parsed.instructions) {
      if (instruction.kind !== 'COPY' && instruction.kind !== 'ADD') continue;
      // COPY --from reads another stage, not the context.
      if (instruction.flags.from !== undefined) continue;
      for (const raw of instruction.rawSources) {
        const source = plainSource(raw);
        if (source !== undefined && !info.copySources.includes(source)) info.copySources.push(source);
      }
    }
  } catch (error) {
    info.problem = error instanceof MultiarchError ? error.message : String(error);
  }
  return info;
}

export function findDockerfiles(repo: RepoFiles): DockerfileInfo[] {
  return repo.files.filter((f) => dockerfileSuffix(posix.basename(f)) !== undefined).map((f) => readDockerfile(repo, f));
}
