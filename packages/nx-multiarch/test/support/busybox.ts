import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '../../src/util/exec';
import { WORKSPACE_ROOT } from './oci-schemas';

/**
 * Debian's busybox-static for a Debian arch (amd64, arm64, armhf): the .deb
 * from .cache/debs (where tools/setup.sh puts it), else downloaded there with
 * apt-get from a separate, temporary package-lists folder for that arch only
 * (the host's apt state is not touched), then unpacked with dpkg -x.
 */
export const DEB_CACHE = join(WORKSPACE_ROOT, '.cache', 'debs');

async function findDeb(debArch: string): Promise<string | undefined> {
  const names = await readdir(DEB_CACHE).catch(() => [] as string[]);
  const name = names.find((n) => n.startsWith('busybox-static_') && n.endsWith(`_${debArch}.deb`));
  return name ? join(DEB_CACHE, name) : undefined;
}

async function downloadDeb(debArch: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'nxm-apt-'));
  try {
    await mkdir(join(work, 'lists', 'partial'), { recursive: true });
    await mkdir(join(work, 'cache', 'archives', 'partial'), { recursive: true });
    await mkdir(join(work, 'debs'));
    const opts = ['-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', `Dir::Cache=${join(work, 'cache')}`, '-o', `APT::Architectures=${debArch}`, '-o', 'APT::Sandbox::User=root', '-q'];
    // A foreign list can fail mid-sync on the mirror; what the download needs usually arrived anyway.
    await runChecked('apt-get', [...opts, 'update'], { timeoutMs: 300_000 }).catch(() => undefined);
    await runChecked('apt-get', [...opts, 'download', `busybox-static:${debArch}`], { cwd: join(work, 'debs'), timeoutMs: 300_000 });
    const [name] = await readdir(join(work, 'debs'));
    await mkdir(DEB_CACHE, { recursive: true });
    // Moved in whole, so the cache never holds half a .deb.
    await rename(join(work, 'debs', name), join(DEB_CACHE, name));
    return join(DEB_CACHE, name);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const binaries = new Map<string, Buffer>();

/** The statically linked busybox binary for a Debian arch. */
export async function busyboxBinary(debArch: string): Promise<Buffer> {
  const known = binaries.get(debArch);
  if (known) return known;
  const deb = (await findDeb(debArch)) ?? (await downloadDeb(debArch));
  const root = await mkdtemp(join(tmpdir(), 'nxm-busybox-'));
  try {
    await runChecked('dpkg', ['-x', deb, root]);
    const path = ['bin/busybox', 'usr/bin/busybox'].map((p) => join(root, p)).find((p) => existsSync(p));
    if (!path) throw new Error(`${deb} holds no bin/busybox`);
    const binary = await readFile(path);
    binaries.set(debArch, binary);
    return binary;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
