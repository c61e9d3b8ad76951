import { formatFiles, logger, type Tree } from '@nx/devkit';
import { withReadableErrors } from '../support/generator-error';
import { PLUGIN_NAME, readWorkspaceNxJson, registerPlugin } from '../support/plugin-entry';
import { DEFAULT_PLUGIN_OPTIONS, validatePluginOptions } from '../support/plugin-options-input';
import { addGitignoreEntries } from './gitignore';
import { addNamedInputs } from './named-inputs';
import type { InitGeneratorSchema } from './schema';

/**
 * Makes a workspace use nx-multiarch: one plugin entry in nx.json (never a
 * second), the named inputs its inferred targets use, and .gitignore entries
 * for what the plugin writes. Every option is
 * checked before anything is written.
 */
export async function initGenerator(tree: Tree, schema: InitGeneratorSchema = {}): Promise<void> {
  await withReadableErrors(async () => {
    const given = validatePluginOptions(schema);
    readWorkspaceNxJson(tree);
    const added = registerPlugin(tree, DEFAULT_PLUGIN_OPTIONS, given);
    logger.info(added ? `Registered ${PLUGIN_NAME} in nx.json.` : `${PLUGIN_NAME} is already registered in nx.json${Object.keys(given).length ? '; updated the options given' : ''}.`);
    const named = addNamedInputs(tree);
    if (named.length > 0) logger.info(`Added the named input(s) ${named.join(', ')} to nx.json (the inferred targets use them).`);
    const ignored = addGitignoreEntries(tree);
    if (ignored.length > 0) logger.info(`Added ${ignored.join(', ')} to .gitignore.`);
    if (!schema.skipFormat) await formatFiles(tree);
  });
}

export default initGenerator;
