import { DEFAULT_ARCHES } from '../../platform/platforms';
import { parseArchList } from '../../platform/parse-arch';
import { parseRegistryTarget, validateRepository } from '../../registry/reference';
import type { NxMultiarchPluginOptions } from '../../graph/plugin-options';
import { generatorError } from './generator-error';

/** Plugin options as a generator takes them from the command line. */
export interface PluginOptionsInput {
  /** A comma list (`--arches=amd64,arm64`) or an array. */
  arches?: string | string[];
  registry?: string;
  repositoryPrefix?: string;
  engine?: string;
  tagScheme?: string;
}

const ENGINES: ReadonlyArray<NonNullable<NxMultiarchPluginOptions['engine']>> = ['native', 'docker', 'auto'];
const TAG_SCHEMES: ReadonlyArray<NonNullable<NxMultiarchPluginOptions['tagScheme']>> = ['version', 'git-sha', 'version-and-git-sha'];

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  const found = allowed.find((a) => a === value);
  if (!found) throw generatorError(`Unknown ${option} "${value}".`, `Use one of: ${allowed.join(', ')}.`);
  return found;
}

/**
 * Checks every given option and returns only those given, normalised (arches
 * in the table's names, the registry without a scheme). Nothing defaulted:
 * defaults apply only when the plugin is first registered.
 */
export function validatePluginOptions(input: PluginOptionsInput): NxMultiarchPluginOptions {
  const out: NxMultiarchPluginOptions = {};
  if (input.arches !== undefined) out.arches = parseArchList(input.arches);
  if (input.registry !== undefined) {
    const target = parseRegistryTarget(input.registry);
    out.registry = target.prefix ? `${target.registry}/${target.prefix}` : target.registry;
  }
  if (input.repositoryPrefix !== undefined) {
    const prefix = input.repositoryPrefix.replace(/^\/+|\/+$/g, '');
    try {
      validateRepository(prefix);
    } catch (error) {
      throw generatorError(`Invalid repositoryPrefix "${input.repositoryPrefix}": ${(error as Error).message}`, 'Use lower-case path components such as "linkerd" or "team/images".');
    }
    out.repositoryPrefix = prefix;
  }
  if (input.engine !== undefined) out.engine = oneOf(input.engine, ENGINES, 'engine');
  if (input.tagScheme !== undefined) out.tagScheme = oneOf(input.tagScheme, TAG_SCHEMES, 'tagScheme');
  return out;
}

/** What a newly registered plugin gets when nothing is given. */
export const DEFAULT_PLUGIN_OPTIONS: NxMultiarchPluginOptions = { arches: [...DEFAULT_ARCHES] };
