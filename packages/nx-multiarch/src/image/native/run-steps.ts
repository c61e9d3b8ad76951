import { posix } from 'node:path';
import { MultiarchError } from '../../errors';
import { checkElfArch } from '../../platform/elf';
import type { PlatformSpec } from '../../platform/platforms';
import type { RunOperation } from '../../dockerfile/evaluate-stage';
import { APT_NEEDS_SCRATCH, type RunStep } from '../../dockerfile/run-idioms';
import { installDebianPackages, type InstalledPackage } from '../../debian/install';
import { headOf } from '../../oci/file-source';
import { layerPath, type LayerEntry } from '../../oci/layer';
import { CAPABILITY_XATTR, vfsCapData } from './file-capabilities';

/**
 * Carries out the steps of a RUN made of idioms (dockerfile/run-idioms.ts)
 * on the files the stage adds, without running anything of the target:
 * package installs unpack Debian's packages for the target arch
 * (debian/install.ts), setcap writes the security.capability attribute,
 * touch/chmod/mkdir/ln change the stage's entries. Every ELF file a package
 * brings is checked against the target arch, like every file COPY adds.
 */

/** The stage's files as the steps see and change them (paths relative to the image root). */
export interface StageState {
  get(path: string): LayerEntry | undefined;
  put(entry: LayerEntry): void;
  /** A folder entry, or the implicit parent of an entry (COPY /bin/x makes /bin). */
  hasDirectory(path: string): boolean;
  /** The stage starts FROM scratch: a folder it does not hold does not exist. */
  readonly scratch: boolean;
}

export interface RunEnvironment {
  target: PlatformSpec;
  /** Root of the Debian package cache (private apt state per arch, .debs). */
  packageCacheDir: string;
  /** Packages the user has checked work without their maintainer scripts. */
  packageScriptsNotNeeded?: readonly string[];
  log?: (line: string) => void;
  /** Where package files are unpacked to; they must stay there until the layer is written. */
  extractDir: string;
  /** Every package installed so far, for the build's record. */
  installed: InstalledPackage[];
}

const MAX_SYMLINKS = 40;

class StepError extends Error {}

/** Resolves symlinks the stage holds along `path` (absolute); the result is a layer path. */
function resolve(state: StageState, path: string, followLast: boolean): string {
  let parts = layerPath(path).split('/').filter(Boolean);
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i === parts.length - 1 && !followLast) break;
    const here = parts.slice(0, i + 1).join('/');
    const entry = state.get(here);
    if (entry?.type !== 'symlink') continue;
    if (++hops > MAX_SYMLINKS) throw new StepError(`too many symlinks resolving ${path}`);
    const target = entry.linkTarget ?? '';
    const base = target.startsWith('/') ? '/' : `/${parts.slice(0, i).join('/')}`;
    parts = layerPath(posix.resolve(base, target, ...parts.slice(i + 1))).split('/').filter(Boolean);
    i = -1;
  }
  return parts.join('/');
}

function isDir(state: StageState, path: string): boolean {
  if (path === '' || path === '.') return true;
  const entry = state.get(path);
  if (entry) return entry.type === 'directory';
  return state.hasDirectory(path) || !state.scratch;
}

function needParent(state: StageState, path: string, what: string): void {
  const parent = posix.dirname(path);
  if (parent !== '.' && !isDir(state, parent)) throw new StepError(`${what}: /${parent} does not exist in the image (create it first with mkdir -p /${parent})`);
}

function fileOfStage(state: StageState, path: string, what: string): LayerEntry {
  const entry = state.get(path);
  if (entry) return entry;
  throw new StepError(
    state.scratch
      ? `${what}: /${path} does not exist in the image`
      : `${what}: /${path} is not a file this stage adds; the native engine changes only files the stage itself adds (COPY, ADD, apt-get install, touch), not the base image's`,
  );
}

/** chmod's mode: octal, or symbolic clauses (`u+x`, `a=rw`, `+x`). */
function newMode(mode: string, current: number, isDirectory: boolean): number {
  if (/^[0-7]+$/.test(mode)) return parseInt(mode, 8);
  let out = current & 0o7777;
  for (const clause of mode.split(',')) {
    const match = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!match) throw new StepError(`chmod: "${clause}" is not a mode`);
    const who = match[1] === '' || match[1].includes('a') ? 'ugo' : match[1];
    let bits = 0;
    for (const w of who) {
      const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
      for (const p of match[3]) {
        if (p === 'r') bits |= 4 << shift;
        if (p === 'w') bits |= 2 << shift;
        if (p === 'x' || (p === 'X' && (isDirectory || (current & 0o111) !== 0))) bits |= 1 << shift;
        if (p === 's' && w === 'u') bits |= 0o4000;
        if (p === 's' && w === 'g') bits |= 0o2000;
        if (p === 't') bits |= 0o1000;
      }
    }
    if (match[2] === '+') out |= bits;
    else if (match[2] === '-') out &= ~bits;
    else {
      let mask = 0;
      for (const w of who) mask |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
      out = (out & ~mask) | bits;
    }
  }
  return out;
}

async function applyStep(step: RunStep, state: StageState, env: RunEnvironment, line: number): Promise<void> {
  switch (step.kind) {
    case 'noop':
      return;
    case 'apt-install': {
      if (!state.scratch) {
        throw new StepError(`${APT_NEEDS_SCRATCH}; start the stage FROM scratch and install what the image needs (libc6 comes with the packages), or use engine "docker"`);
      }
      const result = await installDebianPackages({
        cacheRoot: env.packageCacheDir,
        debianArch: env.target.debianArch,
        packages: step.packages,
        installRecommends: step.installRecommends,
        scriptsNotNeeded: env.packageScriptsNotNeeded,
        extractDir: env.extractDir,
        log: env.log,
      });
      for (const entry of result.entries) {
        if (entry.type === 'file') checkElfArch(await headOf(entry), env.target, `/${entry.path} (apt-get install on line ${line})`);
        state.put(entry);
      }
      env.installed.push(...result.packages);
      env.log?.(`RUN on line ${line}: installed ${result.packages.length} Debian packages for ${env.target.debianArch} without running them: ${result.packages.map((p) => `${p.name}=${p.version}`).join(' ')}`);
      return;
    }
    case 'touch':
      for (const raw of step.paths) {
        const path = resolve(state, raw, true);
        if (state.get(path)) continue;
        needParent(state, path, 'touch');
        state.put({ path, type: 'file', mode: 0o644, content: Buffer.alloc(0) });
      }
      return;
    case 'chmod':
      for (const raw of step.paths) {
        const path = resolve(state, raw, true);
        const entry = fileOfStage(state, path, 'chmod');
        const current = entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644);
        state.put({ ...entry, mode: newMode(step.mode, current, entry.type === 'directory') });
      }
      return;
    case 'mkdir':
      for (const raw of step.paths) {
        const path = resolve(state, raw, true);
        const existing = state.get(path);
        if (existing) {
          if (existing.type !== 'directory') throw new StepError(`mkdir: /${path} exists and is not a folder`);
          if (!step.parents) throw new StepError(`mkdir: /${path} exists (use mkdir -p)`);
          continue;
        }
        const parts = path.split('/');
        for (let i = 1; i <= parts.length; i++) {
          const here = parts.slice(0, i).join('/');
          if (isDir(state, here)) continue;
          if (i < parts.length && !step.parents) throw new StepError(`mkdir: /${posix.dirname(path)} does not exist (use mkdir -p)`);
          if (state.get(here)) throw new StepError(`mkdir: /${here} exists and is not a folder`);
          state.put({ path: here, type: 'directory', mode: i === parts.length ? (step.mode ?? 0o755) : 0o755 });
        }
      }
      return;
    case 'ln': {
      let link = resolve(state, step.link, false);
      if (state.get(link)?.type === 'directory') link = posix.join(link, posix.basename(step.target));
      if (state.get(link) && !step.force) throw new StepError(`ln: /${link} exists (use ln -f to replace it)`);
      needParent(state, link, 'ln');
      if (step.symbolic) {
        state.put({ path: link, type: 'symlink', mode: 0o777, linkTarget: step.target });
      } else {
        const target = resolve(state, step.target, true);
        const entry = fileOfStage(state, target, 'ln');
        if (entry.type !== 'file') throw new StepError(`ln: /${target} is not a file (hard links to folders do not exist)`);
        state.put({ path: link, type: 'hardlink', mode: entry.mode, linkTarget: target });
      }
      return;
    }
    case 'setcap':
      for (const file of step.files) {
        const path = resolve(state, file.path, false);
        const entry = fileOfStage(state, path, 'setcap');
        if (entry.type === 'symlink') {
          throw new StepError(`setcap: ${file.path} is a symlink (to ${entry.linkTarget}); setcap takes the file itself: name /${resolve(state, file.path, true)}`);
        }
        if (entry.type !== 'file') throw new StepError(`setcap: ${file.path} is not a regular file`);
        state.put({ ...entry, xattrs: { ...(entry.xattrs ?? {}), [CAPABILITY_XATTR]: vfsCapData(file.capabilities) } });
      }
      return;
  }
}

/** Applies every step of one RUN, in order; a step that cannot be done names the line and the step. */
export async function applyRun(run: RunOperation, state: StageState, env: RunEnvironment): Promise<void> {
  for (const step of run.steps) {
    try {
      await applyStep(step, state, env, run.line);
    } catch (e) {
      if (e instanceof StepError) {
        throw new MultiarchError(`Line ${run.line}: RUN: ${e.message}.`, 'Fix that step of the RUN line; the native engine carries it out on the files the stage adds, without running anything.');
      }
      if (e instanceof MultiarchError) throw new MultiarchError(`Line ${run.line}: RUN: ${e.message}`, e.hint);
      throw e;
    }
  }
}
