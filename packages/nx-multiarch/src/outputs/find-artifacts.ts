import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { parseArch } from '../platform/parse-arch';
import { outputDir } from './paths';

/**
 * Where the workspace keeps the artifacts tests use: images under
 * dist/images/<project>/<arch>/ and cross binaries under
 * dist/cross/<project>/<arch>/. The folder is named by the --arch value as
 * given (Nx names outputs from {options.arch}), so the spelling given is
 * tried first, then the canonical name.
 */
async function firstDir(candidates: string[]): Promise<string | undefined> {
  for (const dir of candidates) {
    if (await stat(dir).then((s) => s.isDirectory(), () => false)) return dir;
  }
  return undefined;
}

function spellings(archGiven: string): string[] {
  return [...new Set([archGiven, parseArch(archGiven)])];
}

export async function findImageDir(workspaceRoot: string, project: string, archGiven: string): Promise<string> {
  const candidates = spellings(archGiven).map((a) => outputDir(workspaceRoot, 'images', project, a));
  const found = await firstDir(candidates);
  if (found) return found;
  throw new MultiarchError(
    `No image of ${project} for ${archGiven} at ${candidates[0]}.`,
    `Build it first: nx run ${project}:docker-arch-build --arch=${archGiven} (the arch-integration target depends on it).`,
  );
}

export async function findCrossBinary(workspaceRoot: string, project: string, file: string, archGiven: string): Promise<string> {
  const candidates = spellings(archGiven).map((a) => join(outputDir(workspaceRoot, 'cross', project, a), file));
  for (const path of candidates) {
    if (await stat(path).then((s) => s.isFile(), () => false)) return path;
  }
  throw new MultiarchError(
    `No ${parseArch(archGiven)} binary ${file} of ${project} at ${candidates[0]}.`,
    `Build it first: nx run ${project}:go-cross --arch=${archGiven} (or the project's cross target).`,
  );
}
