import { mkdir, mkdtemp, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { withOutputLock } from './output-lock';
import { isAtomicTemp, ownerTag, sweepStaleTemps } from './stale-temp';

/**
 * Builds a folder beside its final place, then swaps it in with rename, so a
 * killed task leaves either the old output or the new one, never half of one.
 * On failure the partial folder is removed and the old output, if any, kept.
 * The temporary folder's name carries this process's pid; folders of killed
 * writers beside the output (any arch) are swept first. The swap itself
 * holds the output's write lock (util/output-lock).
 */
export async function writeDirAtomically<T>(finalDir: string, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(finalDir);
  await mkdir(parent, { recursive: true });
  await sweepStaleTemps(parent, isAtomicTemp);
  const tmpDir = await mkdtemp(join(parent, `.${basename(finalDir)}.tmp-${ownerTag()}-`));
  try {
    const result = await fill(tmpDir);
    // The swap holds the output's write lock: a push reading the old output finishes first.
    await withOutputLock(finalDir, 'write', async () => {
      const old = `${tmpDir}.old`;
      // rename() cannot replace a non-empty folder: move the old one aside first.
      let hadOld = false;
      try {
        await rename(finalDir, old);
        hadOld = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await rename(tmpDir, finalDir);
      if (hadOld) await rm(old, { recursive: true, force: true });
    });
    return result;
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true });
    // Leave no empty dist/<kind>/<project>/ behind either (rmdir fails, harmlessly, on a folder with other arches).
    await rmdir(parent).catch(() => undefined);
    throw e;
  }
}

/** Removes a stale output before a build so a failed build leaves nothing behind. */
export async function removeOutput(dir: string): Promise<void> {
  // Nothing there, nothing to lock (and no lock folder, or dist/ itself, is created for it).
  if (!(await stat(dir).then(() => true, () => false))) return;
  await withOutputLock(dir, 'write', () => rm(dir, { recursive: true, force: true }));
}
