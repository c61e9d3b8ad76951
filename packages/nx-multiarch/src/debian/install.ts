import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import type { ArchiveEntry } from '../oci/tar';
import { AptForArch, type ResolvedPackage } from './apt';
import { readDeb } from './deb-file';
import { chosenAlternatives, classifyScript, KNOWN_UNNEEDED, type Alternative } from './maintainer-scripts';

/**
 * `apt-get install` for another architecture without running anything of
 * it: apt resolves and downloads the closure (apt.ts), dpkg-deb unpacks the
 * files, the maintainer-script rule (maintainer-scripts.ts) decides whether
 * a package can go in without its scripts, update-alternatives' links are
 * written, and a dpkg status file per package goes to
 * var/lib/dpkg/status.d/ (the layout distroless images use, which SBOM
 * scanners read; a base's own var/lib/dpkg/status stays untouched).
 */

export type InstalledPackage = ResolvedPackage;

export interface PackageInstall {
  /** Files to add, image paths relative to the root; a package file's bytes stay on disk in the extract folder. */
  entries: ArchiveEntry[];
  /** What was installed, sorted by name. */
  packages: InstalledPackage[];
}

export interface InstallOptions {
  /** Root of the package cache (private apt state per arch, the .debs). */
  cacheRoot: string;
  debianArch: string;
  packages: readonly string[];
  installRecommends: boolean;
  /** Packages whose maintainer scripts the user has checked are not needed in the image. */
  scriptsNotNeeded?: readonly string[];
  /** Where the packages' files are unpacked to; the entries read them from there, so it must outlive the layer. */
  extractDir: string;
  log?: (line: string) => void;
}

/** dpkg's status stanza for an installed package: its control fields with `Status` after `Package`. */
export function statusStanza(control: string): string {
  const lines = control.split('\n').filter((l) => !/^Status:/.test(l));
  const at = lines.findIndex((l) => l.startsWith('Package:'));
  lines.splice(at + 1, 0, 'Status: install ok installed');
  return `${lines.join('\n')}\n`;
}

function alternativeLinks(alternatives: readonly Alternative[]): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  const link = (path: string, target: string) => entries.push({ path: path.replace(/^\/+/, ''), type: 'symlink', linkTarget: target, mode: 0o777 });
  for (const a of chosenAlternatives(alternatives)) {
    for (const { name, link: from, path } of [{ name: a.name, link: a.link, path: a.path }, ...a.slaves]) {
      link(from, posix.join('/etc/alternatives', name));
      link(posix.join('/etc/alternatives', name), path);
    }
  }
  return entries;
}

async function resolveAndFetch(apt: AptForArch, options: InstallOptions): Promise<{ resolved: ResolvedPackage[]; paths: Map<string, string> }> {
  await apt.updateLists();
  let resolved = await apt.resolve(options.packages, options.installRecommends);
  try {
    return { resolved, paths: await apt.fetch(resolved) };
  } catch (e) {
    if (!(e instanceof MultiarchError)) throw e;
    // The mirror moved on (a newer version replaced the listed one): read the lists again, once.
    options.log?.(`apt (${options.debianArch}): download failed, refreshing the package lists and trying again`);
    await apt.updateLists(true);
    resolved = await apt.resolve(options.packages, options.installRecommends);
    return { resolved, paths: await apt.fetch(resolved) };
  }
}

export async function installDebianPackages(options: InstallOptions): Promise<PackageInstall> {
  const apt = new AptForArch(options.cacheRoot, options.debianArch, options.log);
  const { resolved, paths } = await apt.locked(() => resolveAndFetch(apt, options));
  const allowed = new Set(options.scriptsNotNeeded ?? []);
  const entries: ArchiveEntry[] = [];
  const alternatives: Alternative[] = [];
  const sorted = [...resolved].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of sorted) {
    const deb = await readDeb(paths.get(p.name) as string, options.extractDir);
    for (const [script, text] of [['preinst', deb.preinst], ['postinst', deb.postinst]] as const) {
      if (text === undefined) continue;
      const verdict = classifyScript(text);
      if (verdict.ok) alternatives.push(...verdict.alternatives);
      else if (!(p.name in KNOWN_UNNEEDED) && !allowed.has(p.name)) {
        throw new MultiarchError(
          `Package ${p.name} ${p.version} (${p.architecture}) needs its ${script} to work: ${verdict.reason}. The native engine installs packages without running their maintainer scripts (they are target code).`,
          `If the image works without that script, list ${p.name} in the docker-arch-build option packageScriptsNotNeeded; else do that step yourself in the Dockerfile (ln -s, mkdir, touch, chmod), or use engine "docker", which runs the scripts under emulation.`,
        );
      }
    }
    entries.push(...deb.files);
    entries.push({ path: `var/lib/dpkg/status.d/${p.name}`, type: 'file', mode: 0o644, content: Buffer.from(statusStanza(deb.control)) });
  }
  entries.push(...alternativeLinks(alternatives));
  return { entries, packages: sorted };
}
