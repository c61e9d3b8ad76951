import { execFile } from 'node:child_process';
import { MultiarchError } from '../errors';
import { readTar, type ArchiveEntry } from '../oci/tar';

/**
 * One .deb read with dpkg-deb (which knows every compression a .deb may
 * use): its control fields, its install-time maintainer scripts and its
 * files. dpkg-deb only reads the archive; nothing in it is run.
 */
export interface DebContents {
  /** The control file as written (`Package: ...` stanza), without trailing blank lines. */
  control: string;
  preinst?: string;
  postinst?: string;
  /** The data files, paths relative to the root, hard links kept. */
  files: ArchiveEntry[];
}

function dpkgDeb(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('dpkg-deb', args, { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new MultiarchError(
            missing ? 'dpkg-deb not found: package installs unpack .debs with it.' : `dpkg-deb ${args.join(' ')} failed: ${stderr.toString().trim()}`,
            missing ? 'Install dpkg (Debian and Ubuntu have it).' : 'Delete the cached .deb named above; the next build downloads it again.',
          ),
        );
      } else resolve(stdout);
    });
  });
}

export async function readDeb(path: string): Promise<DebContents> {
  const control = await readTar(await dpkgDeb(['--ctrl-tarfile', path]));
  const text = (name: string) => control.find((e) => e.path === name && e.type === 'file')?.content?.toString('utf8');
  const controlText = text('control');
  if (!controlText) throw new MultiarchError(`${path} has no control file.`, 'Delete it from the package cache; the next build downloads it again.');
  const files = await readTar(await dpkgDeb(['--fsys-tarfile', path]), { hardLinks: true });
  const preinst = text('preinst');
  const postinst = text('postinst');
  return { control: controlText.replace(/\n+$/, ''), ...(preinst ? { preinst } : {}), ...(postinst ? { postinst } : {}), files };
}
