import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { run } from '../util/exec';
import { withFileLock } from '../util/file-lock';

/**
 * apt, asked about another architecture without touching the machine's own
 * apt state: a private state folder per Debian arch (its own package lists,
 * an empty dpkg status, `APT::Architecture=<arch>`), while the sources (the
 * mirror) come from the machine's apt configuration, never from this code.
 * apt resolves the dependency closure; apt downloads (checking the signed
 * lists' hashes); the .debs are kept in a cache shared by every arch, and
 * their SHA256 is checked against the lists again on every use.
 */

export interface ResolvedPackage {
  name: string;
  version: string;
  /** The Debian architecture of the package (`all` or the target's). */
  architecture: string;
  /** apt's file name, `<name>_<version, epoch as %3a>_<arch>.deb`. */
  filename: string;
  sha256: string;
}

/** How old the private lists may get before an install refreshes them. */
const LISTS_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const LOCK_TIMEOUT_MS = 10 * 60 * 1000;
const APT_TIMEOUT_MS = 5 * 60 * 1000;

/** apt's messages without the mirror's address (and IP): the plugin never writes one into a log or message. */
export function withoutMirror(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^/\s]+/gi, '<mirror>').replace(/\s*\[IP: [^\]]*\]/g, '');
}

export class PackageNotFoundError extends MultiarchError {}

export class AptForArch {
  private readonly stateDir: string;

  constructor(
    /** Cache root: `<root>/apt-<arch>/` holds the private state, `<root>/debs/` the .debs. */
    private readonly cacheRoot: string,
    readonly debianArch: string,
    private readonly log?: (line: string) => void,
  ) {
    this.stateDir = join(cacheRoot, `apt-${debianArch}`);
  }

  get debDir(): string {
    return join(this.cacheRoot, 'debs');
  }

  private options(): string[] {
    const d = this.stateDir;
    return [
      '-o', `Dir::State::Lists=${join(d, 'lists')}`,
      '-o', `Dir::State::status=${join(d, 'status')}`,
      '-o', `Dir::State::extended_states=${join(d, 'extended_states')}`,
      '-o', `Dir::Cache=${join(d, 'cache')}`,
      '-o', `APT::Architecture=${this.debianArch}`,
      '-o', `APT::Architectures::=${this.debianArch}`,
      // The private folders belong to whoever runs the build; apt's sandbox user could not write them.
      '-o', 'APT::Sandbox::User=root',
      // The private state is guarded by our own lock; the machine's dpkg lock is not ours to take.
      '-o', 'Debug::NoLocking=1',
      '-o', 'Acquire::Languages=none',
      '-o', 'Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false',
      '-o', 'Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false',
      '-o', 'Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false',
      '-o', 'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false',
      '-q',
    ];
  }

  /** Everything that reads or changes the private state runs under this lock (arch variants of one image build side by side). */
  async locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.stateDir, { recursive: true });
    return withFileLock(join(this.stateDir, 'lock'), { timeoutMs: LOCK_TIMEOUT_MS }, work);
  }

  private async hasLists(): Promise<boolean> {
    const names = await readdir(join(this.stateDir, 'lists')).catch(() => [] as string[]);
    return names.some((n) => n.endsWith('_Packages') || /_Packages\.\w+$/.test(n));
  }

  private async listsFresh(): Promise<boolean> {
    try {
      if (!(await this.hasLists())) return false;
      const stamp = await stat(join(this.stateDir, 'lists-updated'));
      return Date.now() - stamp.mtimeMs < LISTS_MAX_AGE_MS;
    } catch {
      return false;
    }
  }

  /** `apt-get update` into the private lists: when none are there, when they are old, or when asked (a download failed). */
  async updateLists(force = false): Promise<void> {
    if (!force && (await this.listsFresh())) return;
    const d = this.stateDir;
    await mkdir(join(d, 'lists', 'partial'), { recursive: true });
    await mkdir(join(d, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(d, 'status'), '', { flag: 'a' });
    const result = await run('apt-get', [...this.options(), 'update'], { timeoutMs: APT_TIMEOUT_MS });
    const stderr = withoutMirror(result.stderr);
    const problems = stderr.trim().split('\n').filter((l) => /^(E|W): /.test(l)).slice(-4).join('\n');
    if (!(await this.hasLists())) {
      throw new MultiarchError(
        `apt-get update for ${this.debianArch} failed: ${result.failure ?? ''}\n${problems || stderr.trim().split('\n').slice(-8).join('\n')}`,
        `Package installs read the mirror from this machine's apt sources; check that apt-get update works here and that the mirror carries ${this.debianArch}.`,
      );
    }
    // One suite mid-sync (often a security suite's foreign arch) leaves its old or no list; the
    // others serve, and a package apt then cannot find or download is reported as such.
    if (result.exitCode !== 0) this.log?.(`apt (${this.debianArch}): apt-get update reported problems; going on with the lists it has:\n${problems}`);
    await writeFile(join(d, 'lists-updated'), '');
  }

  /** The dependency closure of `packages` for this arch, as apt would install it into an empty system. */
  async resolve(packages: readonly string[], installRecommends: boolean): Promise<ResolvedPackage[]> {
    const args = [...this.options(), '--print-uris', '-y', installRecommends ? '--install-recommends' : '--no-install-recommends', 'install', ...packages];
    const result = await run('apt-get', args, { timeoutMs: APT_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      result.stderr = withoutMirror(result.stderr);
      const errors = result.stderr.split('\n').filter((l) => /^E: /.test(l) || /Depends:|has no installation candidate|is not available/.test(l));
      const missing = /E: (?:Unable to locate package |Package '?)([^\s']+)/.exec(result.stderr)?.[1];
      const message = errors.map((l) => l.replace(/^E: /, '').trim()).join('; ') || result.stderr.trim();
      if (missing) {
        throw new PackageNotFoundError(
          `Debian has no package "${missing}" for ${this.debianArch} (apt: ${message}).`,
          `Check the name for ${this.debianArch} (apt-cache policy ${missing}:${this.debianArch}); Debian names differ from Alpine's (libcap is libcap2-bin).`,
        );
      }
      throw new MultiarchError(`apt cannot install ${packages.join(' ')} for ${this.debianArch}: ${message}`, 'Check the package names and versions for this arch.');
    }
    const uris = [...result.stdout.matchAll(/^'[^']+' (\S+\.deb) \d+ \S+$/gm)].map((m) => m[1]);
    const wanted = uris.map((filename) => {
      const [name, version, arch] = filename.replace(/\.deb$/, '').split('_');
      return { name, version: decodeURIComponent(version), architecture: arch, filename };
    });
    if (wanted.length === 0) return [];
    const hashes = await this.sha256s(wanted.map((w) => `${w.name}=${w.version}`));
    return wanted.map((w) => {
      const sha256 = hashes.get(`${w.name} ${w.version} ${w.architecture}`);
      if (!sha256) throw new MultiarchError(`apt lists hold no SHA256 for ${w.name} ${w.version} (${w.architecture}).`, 'Refresh the lists: delete the apt-<arch> folder of the package cache.');
      return { ...w, sha256 };
    });
  }

  private async sha256s(specs: readonly string[]): Promise<Map<string, string>> {
    const result = await run('apt-cache', [...this.options(), 'show', ...specs], { timeoutMs: APT_TIMEOUT_MS });
    if (result.exitCode !== 0) throw new MultiarchError(`apt-cache show failed: ${withoutMirror(result.stderr).trim()}`);
    const out = new Map<string, string>();
    for (const stanza of result.stdout.split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(stanza)?.[1].trim();
      const [name, version, arch, sha] = [field('Package'), field('Version'), field('Architecture'), field('SHA256')];
      if (name && version && arch && sha) out.set(`${name} ${version} ${arch}`, sha);
    }
    return out;
  }

  /** The .deb of each package from the cache, downloading the missing ones; every file's SHA256 is checked. */
  async fetch(packages: readonly ResolvedPackage[]): Promise<Map<string, string>> {
    await mkdir(this.debDir, { recursive: true });
    const paths = new Map<string, string>();
    const missing: ResolvedPackage[] = [];
    for (const p of packages) {
      const path = join(this.debDir, p.filename);
      if ((await fileSha256(path)) === p.sha256) paths.set(p.name, path);
      else missing.push(p);
    }
    if (missing.length === 0) return paths;
    // Downloaded beside, moved in whole: the cache never holds a partial .deb.
    const work = await mkdtemp(join(this.debDir, '.download-'));
    try {
      const result = await run('apt-get', [...this.options(), 'download', ...missing.map((p) => `${p.name}:${p.architecture}=${p.version}`)], { cwd: work, timeoutMs: APT_TIMEOUT_MS });
      if (result.exitCode !== 0) {
        throw new MultiarchError(
          `apt-get download failed for ${missing.map((p) => p.filename).join(', ')}: ${withoutMirror(result.stderr).trim().split('\n').slice(-5).join('\n')}`,
          'The mirror may have moved on since the lists were read; the build refreshes them once and tries again, so re-run it.',
        );
      }
      for (const p of missing) {
        const downloaded = join(work, p.filename);
        const actual = await fileSha256(downloaded);
        if (actual !== p.sha256) {
          throw new MultiarchError(`${p.filename}: SHA256 ${actual ?? '(missing)'} is not the ${p.sha256} of apt's signed lists.`, 'Re-run the build; if it persists, the mirror serves a damaged file.');
        }
        await rename(downloaded, join(this.debDir, p.filename));
        paths.set(p.name, join(this.debDir, p.filename));
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return paths;
  }
}

async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}
