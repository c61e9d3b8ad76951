import { readNxJson, updateNxJson, type NxJsonConfiguration, type Tree } from '@nx/devkit';
import type { NxMultiarchPluginOptions } from '../../graph/plugin-options';
import { generatorError } from './generator-error';

/** The name Nx loads the plugin by, in nx.json `plugins`. */
export const PLUGIN_NAME = 'nx-multiarch';

type PluginEntry = NonNullable<NxJsonConfiguration['plugins']>[number];

function isOurs(entry: PluginEntry): boolean {
  return (typeof entry === 'string' ? entry : entry.plugin) === PLUGIN_NAME;
}

export function readWorkspaceNxJson(tree: Tree): NxJsonConfiguration {
  const nxJson = tree.exists('nx.json') ? readNxJson(tree) : null;
  if (!nxJson) {
    throw generatorError(
      'There is no nx.json at the workspace root, so this is not an Nx workspace.',
      'Run the generator from an Nx workspace (create one with `npx nx init`).',
    );
  }
  return nxJson;
}

/** The options of the first nx-multiarch entry in nx.json, or undefined when the plugin is not registered. */
export function readPluginOptions(tree: Tree): NxMultiarchPluginOptions | undefined {
  const entry = (readWorkspaceNxJson(tree).plugins ?? []).find(isOurs);
  if (entry === undefined) return undefined;
  return typeof entry === 'string' ? {} : ((entry.options ?? {}) as NxMultiarchPluginOptions);
}

/**
 * Registers the plugin, or updates the options of its first entry. Options
 * given here win; options already in nx.json and not given stay as they are,
 * so running init again never resets a team's settings. Returns whether the
 * plugin was newly added.
 */
export function registerPlugin(tree: Tree, defaults: NxMultiarchPluginOptions, given: NxMultiarchPluginOptions): boolean {
  const nxJson = readWorkspaceNxJson(tree);
  const plugins = [...(nxJson.plugins ?? [])];
  const index = plugins.findIndex(isOurs);
  if (index < 0) {
    plugins.push({ plugin: PLUGIN_NAME, options: { ...defaults, ...given } });
    updateNxJson(tree, { ...nxJson, plugins });
    return true;
  }
  if (Object.keys(given).length > 0) {
    const entry = plugins[index];
    const expanded = typeof entry === 'string' ? { plugin: PLUGIN_NAME } : entry;
    plugins[index] = { ...expanded, options: { ...((expanded.options ?? {}) as NxMultiarchPluginOptions), ...given } };
    updateNxJson(tree, { ...nxJson, plugins });
  }
  return false;
}
