/**
 * The rule for maintainer scripts, which the native engine never runs (they
 * are target code). A package is installed when its install-time scripts
 * (preinst, postinst) are absent, or do only what is emulated or not needed
 * in an image:
 * - `update-alternatives --install <link> <name> <path> <priority> [--slave <link> <name> <path>]...`:
 *   emulated: the highest priority wins, and the links are written as
 *   update-alternatives would (`<link>` -> /etc/alternatives/<name> -> `<path>`);
 * - `ldconfig`: not needed (Debian's dynamic loader searches the multiarch
 *   library folders without /etc/ld.so.cache);
 * - the shell structure around them (`set -e`, `if [ "$1" = configure ]`, `case`, `exit 0`).
 * Anything else is a script whose work may be needed, and the package is
 * refused unless it is in KNOWN_UNNEEDED (checked by hand, reasons given) or
 * the user lists it in `packageScriptsNotNeeded` after checking.
 * prerm and postrm run only at removal, which never happens in an image.
 */

export interface Alternative {
  name: string;
  link: string;
  path: string;
  priority: number;
  slaves: Array<{ name: string; link: string; path: string }>;
}

export type ScriptVerdict = { ok: true; alternatives: Alternative[] } | { ok: false; reason: string };

/** Packages whose install scripts do work an image does not need, with why (bookworm). */
export const KNOWN_UNNEEDED: Readonly<Record<string, string>> = {
  libc6: 'its scripts restart services after an upgrade and handle upgrades from older releases',
  netbase: 'its postinst writes /etc/hosts and /etc/networks when absent; container runtimes provide /etc/hosts',
  'libpam-runtime': 'its postinst runs pam-auth-update, whose default is the shipped common-* files',
};

const STRUCTURE = [
  /^#/,
  /^set -e\w*$/,
  /^(if|elif) .*; ?then$/,
  /^(if|elif) .*$/,
  /^then$/,
  /^else$/,
  /^fi$/,
  /^case .* in$/,
  /^esac$/,
  /^;;$/,
  /^[\w|*-]+\)(\s*;;)?$/,
  /^exit 0$/,
  /^exit 1$/,
  /^echo .*>&2$/,
  /^ldconfig$/,
  /^:$/,
];

function logicalLines(script: string): string[] {
  return script
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#!'));
}

function parseAlternative(line: string): Alternative | undefined {
  const words = line.split(/\s+/);
  const at = words.indexOf('--install');
  if (words[0] !== 'update-alternatives' || at < 0) return undefined;
  const [link, name, path, priority] = words.slice(at + 1, at + 5);
  if (!link?.startsWith('/') || !name || !path?.startsWith('/') || !/^\d+$/.test(priority ?? '')) return undefined;
  const slaves: Alternative['slaves'] = [];
  for (let i = at + 5; i < words.length; i++) {
    if (words[i] !== '--slave') return undefined;
    const [sLink, sName, sPath] = words.slice(i + 1, i + 4);
    if (!sLink?.startsWith('/') || !sName || !sPath?.startsWith('/')) return undefined;
    slaves.push({ link: sLink, name: sName, path: sPath });
    i += 3;
  }
  return { name, link, path, priority: Number(priority), slaves };
}

/** Classifies one install-time script. */
export function classifyScript(script: string): ScriptVerdict {
  const alternatives: Alternative[] = [];
  for (const line of logicalLines(script)) {
    if (line.startsWith('update-alternatives')) {
      const alternative = parseAlternative(line);
      if (!alternative) return { ok: false, reason: `it runs "${line.slice(0, 80)}", an update-alternatives form that is not emulated` };
      alternatives.push(alternative);
    } else if (!STRUCTURE.some((re) => re.test(line))) {
      return { ok: false, reason: `it runs "${line.slice(0, 80)}"` };
    }
  }
  return { ok: true, alternatives };
}

/** The alternatives that win: per name, the highest priority (the first one on a tie, as update-alternatives keeps). */
export function chosenAlternatives(all: readonly Alternative[]): Alternative[] {
  const best = new Map<string, Alternative>();
  for (const alternative of all) {
    const current = best.get(alternative.name);
    if (!current || alternative.priority > current.priority) best.set(alternative.name, alternative);
  }
  return [...best.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
