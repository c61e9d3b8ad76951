import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MultiarchError } from '../errors';
import { writeFileSource } from '../oci/file-source';
import { readTarStream, type ArchiveEntry } from '../oci/tar';

/**
 * One .deb read with dpkg-deb (which knows every compression a .deb may
 * use): its control fields, its install-time maintainer scripts and its
 * files. dpkg-deb only reads the archive; nothing in it is run. The data
 * files stream from dpkg-deb to the extract folder one by one, so a package
 * of any size (a CUDA toolkit) passes through a few MB.
 */
export interface DebContents {
  /** The control file as written (`Package: ...` stanza), without trailing blank lines. */
  control: string;
  preinst?: string;
  postinst?: string;
  /** The data files, paths relative to the root, hard links kept; a file's bytes are on disk (`source`). */
  files: ArchiveEntry[];
}

/** The control members read as text; everything else in control.tar is skipped. */
const CONTROL_MEMBERS = new Set(['control', 'preinst', 'postinst']);

/** dpkg-deb's messages are a few lines; a longer stderr is cut here rather than held. */
const STDERR_LIMIT = 64 * 1024;

/**
 * Runs dpkg-deb and hands its standard output, as a stream, to `consume`.
 * When dpkg-deb fails, its own message is the error (a truncated archive
 * also breaks the tar reader, but dpkg-deb says why).
 */
async function withDpkgDeb(args: string[], consume: (stdout: Readable) => Promise<void>): Promise<void> {
  const child = spawn('dpkg-deb', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  let consumeError: unknown;
  try {
    await consume(child.stdout);
  } catch (error) {
    consumeError = error;
    child.kill();
  }
  // Whatever follows the tar's end (record padding) is read away, so dpkg-deb never blocks on a full pipe.
  child.stdout.resume();
  const { code, error } = await exited;
  if (error?.code === 'ENOENT') throw new MultiarchError('dpkg-deb not found: package installs unpack .debs with it.', 'Install dpkg (Debian and Ubuntu have it).');
  // The reader's own refusals (a climbing path, a full disk) say more than dpkg-deb's broken pipe after the kill.
  if (consumeError instanceof MultiarchError) throw consumeError;
  if (code !== 0 || error) {
    const why = stderr.trim() || error?.message || (consumeError !== undefined ? String(consumeError) : `exit code ${code}`);
    throw new MultiarchError(`dpkg-deb ${args.join(' ')} failed: ${why}`, 'Delete the cached .deb named above; the next build downloads it again.');
  }
  if (consumeError !== undefined) throw consumeError;
}

async function readControl(path: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  await withDpkgDeb(['--ctrl-tarfile', path], (stdout) =>
    readTarStream(stdout, async (entry, content) => {
      const chunks: Buffer[] = [];
      for await (const chunk of content ?? []) if (CONTROL_MEMBERS.has(entry.path)) chunks.push(chunk as Buffer);
      if (entry.type === 'file' && CONTROL_MEMBERS.has(entry.path)) texts.set(entry.path, Buffer.concat(chunks).toString('utf8'));
    }),
  );
  return texts;
}

/** The package's data files, each file written to a folder of its own under `extractDir` as it streams out of dpkg-deb. */
async function extractData(path: string, extractDir: string): Promise<ArchiveEntry[]> {
  const folder = await mkdtemp(join(extractDir, 'deb-'));
  const files: ArchiveEntry[] = [];
  await withDpkgDeb(['--fsys-tarfile', path], (stdout) =>
    readTarStream(
      stdout,
      async (entry, content) => {
        if (entry.type !== 'file' || !content) {
          files.push(entry);
          return;
        }
        const { source } = await writeFileSource(content, join(folder, String(files.length)));
        files.push({ ...entry, source });
      },
      { hardLinks: true },
    ),
  );
  return files;
}

/** Reads a .deb; its data files go to `extractDir`, which must outlive the layer they enter. */
export async function readDeb(path: string, extractDir: string): Promise<DebContents> {
  const control = await readControl(path);
  const controlText = control.get('control');
  if (!controlText) throw new MultiarchError(`${path} has no control file.`, 'Delete it from the package cache; the next build downloads it again.');
  const files = await extractData(path, extractDir);
  const preinst = control.get('preinst');
  const postinst = control.get('postinst');
  return { control: controlText.replace(/\n+$/, ''), ...(preinst ? { preinst } : {}), ...(postinst ? { postinst } : {}), files };
}
