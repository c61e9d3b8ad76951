/**
 * Debian packages of a base image, from var/lib/dpkg/status (and the
 * status.d/ files distroless images keep instead). Only installed packages.
 */
export interface DpkgPackage {
  name: string;
  version: string;
  architecture?: string;
}

export function parseDpkgStatus(text: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const status = field('Status');
    if (!name || !version) continue;
    if (status && !/\binstalled$/.test(status)) continue;
    out.push({ name, version, ...(field('Architecture') ? { architecture: field('Architecture') } : {}) });
  }
  return out;
}

export function isDpkgStatusPath(path: string): boolean {
  return path === 'var/lib/dpkg/status' || (path.startsWith('var/lib/dpkg/status.d/') && !path.endsWith('.md5sums'));
}
