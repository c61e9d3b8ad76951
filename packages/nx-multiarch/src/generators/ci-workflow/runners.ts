import type { Arch } from '../../platform/platforms';
import { parseArch } from '../../platform/parse-arch';
import { generatorError } from '../support/generator-error';

export type Provider = 'github' | 'gitlab';

/** A runner label (GitHub `runs-on`, GitLab `tags`): one word, nothing YAML or a shell would read. */
export const RUNNER_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Hosted runners of the arch itself, where the provider has them: a native
 * runner builds as fast and runs the integration tests without emulation.
 * GitHub's arm64 runners are free for public repositories; GitLab.com's
 * hosted runners have an arm64 size too. Other arches use the default runner
 * and qemu.
 */
export const NATIVE_RUNNERS: Readonly<Record<Provider, Partial<Record<Arch, string>>>> = {
  github: { arm64: 'ubuntu-24.04-arm' },
  gitlab: { arm64: 'saas-linux-small-arm64' },
};

/** `arm64=ubuntu-24.04-arm,s390x=s390x-box` or an object, to arch -> label. */
export function parseRunnerMap(value: string | Record<string, string> | undefined): Partial<Record<Arch, string>> {
  if (value === undefined) return {};
  const pairs: Array<[string, string]> =
    typeof value === 'string'
      ? value
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => {
            const eq = p.indexOf('=');
            if (eq <= 0) throw generatorError(`Invalid runners entry "${p}".`, 'Write arch=label pairs separated by commas, e.g. --runners=arm64=ubuntu-24.04-arm,s390x=my-s390x-runner.');
            return [p.slice(0, eq), p.slice(eq + 1)];
          })
      : Object.entries(value);
  const map: Partial<Record<Arch, string>> = {};
  for (const [archName, label] of pairs) {
    const arch = parseArch(archName);
    if (!RUNNER_LABEL.test(label.trim())) {
      throw generatorError(`Invalid runner label "${label}" for ${arch}.`, 'Give one runner label such as ubuntu-24.04-arm (letters, digits, ".", "_" and "-").');
    }
    map[arch] = label.trim();
  }
  return map;
}

/**
 * The runner of every matrix arch: the map's, else the provider's native
 * runner, else the default. A map naming an arch the workflow does not build
 * is a mistake (a typo, or an arch dropped from nx.json), not something to ignore.
 */
export function resolveRunners(
  arches: readonly Arch[],
  map: Partial<Record<Arch, string>>,
  provider: Provider,
  defaultRunner: string,
  nativeDefaults: boolean,
): Array<{ arch: Arch; runner: string }> {
  const extra = (Object.keys(map) as Arch[]).filter((arch) => !arches.includes(arch));
  if (extra.length > 0) {
    throw generatorError(
      `runners names ${extra.join(', ')}, which the workflow does not build (its arches: ${arches.join(', ')}).`,
      'Remove that entry from --runners, or add the arch to the plugin\'s "arches" in nx.json (or to --arches).',
    );
  }
  return arches.map((arch) => ({ arch, runner: map[arch] ?? (nativeDefaults ? NATIVE_RUNNERS[provider][arch] : undefined) ?? defaultRunner }));
}
