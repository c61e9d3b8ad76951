import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { readTar } from '../oci/tar';
import { gunzip } from '../oci/gzip';
import { MultiarchError } from '../errors';

/**
 * Stages other projects' outputs into a scratch copy of the build context,
 * so the Dockerfile COPYs them like any context file. Two forms:
 *
 *   { "from": "dist/cross/<project>/{arch}[/file]", "to": "bin" }
 *     a file goes to <to>/<name>; a folder's contents go into <to>/.
 *   { "package": "dist/cross/linkerd2-proxy/{arch}", "to": "bin" }
 *     the folder's single *.tar.gz, checked against <stem>.txt or <tarball>.txt (first
 *     field: its sha256, as Linkerd's fetch step checks it), and the files of
 *     its single top folder extracted into <to>/.
 *
 * Paths are relative to the workspace root; `{arch}` is the --arch value as
 * given. The scratch context holds hard links to the real context's files,
 * so every write here first removes the name it writes to: writing through a
 * hard link would change the user's own file.
 */
export interface CopyArtifact {
  from: string;
  to: string;
}

export interface PackageArtifact {
  package: string;
  to: string;
}

export type ArtifactSpec = CopyArtifact | PackageArtifact;

export interface StagedArtifact {
  /** The spec's source after `{arch}` substitution, workspace-relative. */
  source: string;
  to: string;
  files: string[];
}

export interface StageArtifactsOptions {
  workspaceRoot: string;
  arch: string;
  artifacts: readonly ArtifactSpec[];
  /** The scratch context folder to stage into. */
  contextDir: string;
  /** The cross target that builds a project's outputs (go-cross, cargo-cross), for hints. */
  crossTargetOf?: (project: string) => string | undefined;
}

function isPackage(spec: ArtifactSpec): spec is PackageArtifact {
  return typeof (spec as PackageArtifact).package === 'string';
}

/** Validates the shape of the artifacts option (it comes from JSON). */
export function validateArtifacts(value: unknown): ArtifactSpec[] {
  if (value === undefined) return [];
  const hint = 'Write artifacts as [{ "from": "dist/cross/<project>/{arch}", "to": "bin" }] or [{ "package": "dist/cross/<project>/{arch}", "to": "bin" }].';
  if (!Array.isArray(value)) throw new MultiarchError('The artifacts option must be an array.', hint);
  return value.map((item, i) => {
    const spec = item as Partial<CopyArtifact & PackageArtifact>;
    const sources = [spec.from, spec.package].filter((s) => s !== undefined);
    if (typeof spec.to !== 'string' || sources.length !== 1 || typeof sources[0] !== 'string' || sources[0] === '') {
      throw new MultiarchError(`artifacts[${i}] needs "to" and exactly one of "from" or "package" (strings).`, hint);
    }
    return spec.package !== undefined ? { package: spec.package, to: spec.to } : { from: spec.from as string, to: spec.to };
  });
}

function insideOrThrow(root: string, path: string, what: string, hint: string): void {
  const rel = relative(root, path);
  if (rel === '..' || rel.startsWith(`..${sep}`) || resolve(root, rel) !== path) throw new MultiarchError(what, hint);
}

function projectOfOutput(path: string): string | undefined {
  return /^dist\/[^/]+\/([^/]+)(\/|$)/.exec(path)?.[1];
}

function buildHint(source: string, arch: string, options: StageArtifactsOptions, packageForm: boolean): string {
  const project = projectOfOutput(source);
  if (!project) return `Build it first, so that ${source} exists.`;
  const target = options.crossTargetOf?.(project) ?? (packageForm ? 'cargo-cross' : undefined);
  const command = target ? `nx run ${project}:${target} --arch=${arch}` : `nx run ${project}:go-cross --arch=${arch} (or cargo-cross)`;
  return `Build it first: ${command}. Declaring a dependency on ${project} makes docker-arch-build do that itself.`;
}

/** Copies a file or a folder's contents, replacing (never writing through) what is there. */
async function copyReplacing(src: string, dest: string, files: string[], root: string): Promise<void> {
  const info = await lstat(src);
  if (info.isDirectory()) {
    await mkdir(dest, { recursive: true });
    for (const name of (await readdir(src)).sort()) await copyReplacing(join(src, name), join(dest, name), files, root);
    return;
  }
  await rm(dest, { recursive: true, force: true });
  await mkdir(dirname(dest), { recursive: true });
  if (info.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
  } else {
    await copyFile(src, dest);
    await chmod(dest, info.mode & 0o777);
  }
  files.push(relative(root, dest).split(sep).join('/'));
}

async function stageCopy(spec: CopyArtifact, options: StageArtifactsOptions, destDir: string): Promise<StagedArtifact> {
  const source = spec.from.split('{arch}').join(options.arch);
  const abs = resolve(options.workspaceRoot, source);
  insideOrThrow(options.workspaceRoot, abs, `Artifact ${source} is outside the workspace.`, 'Name outputs inside the workspace (e.g. dist/cross/<project>/{arch}).');
  const info = await stat(abs).catch(() => undefined);
  if (!info) {
    throw new MultiarchError(`Artifact ${source} does not exist (needed for --arch=${options.arch}).`, buildHint(source, options.arch, options, false));
  }
  const files: string[] = [];
  const dest = info.isDirectory() ? destDir : join(destDir, posix.basename(source));
  await copyReplacing(abs, dest, files, options.contextDir);
  if (files.length === 0) {
    throw new MultiarchError(`Artifact ${source} is an empty folder.`, buildHint(source, options.arch, options, false));
  }
  return { source, to: spec.to, files };
}

async function stagePackage(spec: PackageArtifact, options: StageArtifactsOptions, destDir: string): Promise<StagedArtifact> {
  const source = spec.package.split('{arch}').join(options.arch);
  const dir = resolve(options.workspaceRoot, source);
  insideOrThrow(options.workspaceRoot, dir, `Package folder ${source} is outside the workspace.`, 'Name outputs inside the workspace (e.g. dist/cross/<project>/{arch}).');
  const names = await readdir(dir).catch(() => undefined);
  const tarballs = (names ?? []).filter((n) => n.endsWith('.tar.gz')).sort();
  if (tarballs.length === 0) {
    throw new MultiarchError(
      `No package (*.tar.gz) in ${source}${names ? '' : ' (the folder does not exist)'}.`,
      buildHint(source, options.arch, options, true),
    );
  }
  if (tarballs.length > 1) {
    throw new MultiarchError(`${source} holds ${tarballs.length} packages (${tarballs.join(', ')}); expected one.`, `Remove the stale ones, or rebuild: ${buildHint(source, options.arch, options, true)}`);
  }
  const tarballPath = join(dir, tarballs[0]);
  const tarballName = `${source}/${tarballs[0]}`;
  const tarball = await readFile(tarballPath);
  // Linkerd names the checksum <stem>.txt (stem = the tarball name without .tar.gz); <tarball>.txt is taken too.
  const checksumNames = [`${tarballs[0].slice(0, -'.tar.gz'.length)}.txt`, `${tarballs[0]}.txt`];
  let checksumName = `${source}/${checksumNames[0]}`;
  let checksumText: string | undefined;
  for (const name of checksumNames) {
    checksumText = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (checksumText !== undefined) {
      checksumName = `${source}/${name}`;
      break;
    }
  }
  if (checksumText === undefined) {
    throw new MultiarchError(
      `Package ${tarballName} has no checksum file (${checksumNames.map((n) => `${source}/${n}`).join(' or ')}).`,
      buildHint(source, options.arch, options, true),
    );
  }
  const expected = checksumText.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const actual = createHash('sha256').update(tarball).digest('hex');
  if (expected !== actual) {
    throw new MultiarchError(
      `Package ${tarballName} does not match its checksum: ${checksumName} says ${expected || '(nothing)'}, the file hashes to ${actual}.`,
      `The package is damaged or stale; rebuild it: ${buildHint(source, options.arch, options, true).replace(/^Build it first: /, '')}`,
    );
  }
  const entries = await readTar(gunzip(tarball));
  const tops = [...new Set(entries.map((e) => e.path.split('/')[0]))];
  if (tops.length !== 1 || !entries.some((e) => e.path.startsWith(`${tops[0]}/`))) {
    throw new MultiarchError(`Package ${tarballName} does not hold a single top folder (it holds ${tops.join(', ') || 'nothing'}).`, 'Package it as <name>/<files> (cargo-cross does).');
  }
  const files: string[] = [];
  for (const entry of entries) {
    const inner = entry.path.slice(tops[0].length + 1);
    if (inner === '') continue;
    const normalized = posix.normalize(inner);
    if (normalized.startsWith('../') || posix.isAbsolute(normalized)) {
      throw new MultiarchError(`Package ${tarballName} has an entry ${entry.path} that points outside its folder.`, 'Rebuild the package.');
    }
    const dest = join(destDir, ...normalized.split('/'));
    if (entry.type === 'directory') {
      await mkdir(dest, { recursive: true });
      continue;
    }
    await rm(dest, { recursive: true, force: true });
    await mkdir(dirname(dest), { recursive: true });
    if (entry.type === 'symlink') {
      await symlink(entry.linkTarget ?? '', dest);
    } else {
      await writeFile(dest, entry.content ?? Buffer.alloc(0));
      await chmod(dest, (entry.mode ?? 0o644) & 0o777);
    }
    files.push(relative(options.contextDir, dest).split(sep).join('/'));
  }
  return { source, to: spec.to, files };
}

/** Stages every artifact into the scratch context, in order. */
export async function stageArtifacts(options: StageArtifactsOptions): Promise<StagedArtifact[]> {
  const staged: StagedArtifact[] = [];
  for (const spec of options.artifacts) {
    const destDir = resolve(options.contextDir, spec.to);
    insideOrThrow(options.contextDir, destDir, `Artifact destination "${spec.to}" is outside the build context.`, 'Give "to" as a folder inside the context, e.g. "bin".');
    staged.push(isPackage(spec) ? await stagePackage(spec, options, destDir) : await stageCopy(spec, options, destDir));
  }
  return staged;
}
