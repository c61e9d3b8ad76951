import { copyFile, link, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isScratchContext, ownerTag, safeNamePart, sweepStaleTemps } from '../../util/stale-temp';
import { IgnoreMatcher } from './dockerignore';

/**
 * A scratch copy of a build context, for staging artifacts without writing
 * into the project's folder. Files are hard links where the file system
 * allows (the copy costs no data), copies elsewhere; symlinks are recreated
 * as they are; paths .dockerignore excludes are skipped (no build reads
 * them), except the .dockerignore file itself. Its name carries this
 * process's pid, so a later run can sweep it if this one is killed.
 */
export async function createScratchContext(contextDir: string, parentDir: string, label: string, dockerfile?: string): Promise<string> {
  await mkdir(parentDir, { recursive: true });
  // Contexts of builds killed before they could remove their own.
  await sweepStaleTemps(parentDir, isScratchContext);
  const scratch = await mkdtemp(join(parentDir, `context-${safeNamePart(label)}-${ownerTag()}-`));
  const candidates = dockerfile ? [`${dockerfile}.dockerignore`, join(contextDir, '.dockerignore')] : [join(contextDir, '.dockerignore')];
  const ignore = await IgnoreMatcher.load(candidates);
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(contextDir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const src = join(contextDir, path);
      const dest = join(scratch, path);
      const info = await lstat(src);
      const ignored = path !== '.dockerignore' && ignore.ignores(path);
      if (info.isDirectory()) {
        if (ignored && !ignore.hasExceptions) continue;
        await mkdir(dest, { recursive: true });
        await walk(path);
      } else if (ignored) {
        continue;
      } else if (info.isSymbolicLink()) {
        await symlink(await readlink(src), dest);
      } else if (info.isFile()) {
        await link(src, dest).catch(() => copyFile(src, dest));
      }
    }
  };
  try {
    await walk('');
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  return scratch;
}
