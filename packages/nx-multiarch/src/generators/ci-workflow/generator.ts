import { formatFiles, logger, type Tree } from '@nx/devkit';
import { DEFAULT_ARCHES } from '../../platform/platforms';
import { parseArchList } from '../../platform/parse-arch';
import { generatorError, withReadableErrors } from '../support/generator-error';
import { readPluginOptions, readWorkspaceNxJson } from '../support/plugin-entry';
import type { CiWorkflowGeneratorSchema } from './schema';
import { buildWorkflow, WORKFLOW_HEADER, type WorkflowSettings } from './workflow';
import { toYaml } from './yaml-text';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** What git allows in a branch name, less what would need quoting inside a workflow expression. */
const BRANCH = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const NODE_VERSION = /^(?:\d+(?:\.\d+){0,2}|\d+\.x|lts\/\*|lts\/[a-z]+|latest|node)$/;
const RUNNER = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function check(value: string, pattern: RegExp, option: string, hint: string): string {
  if (!pattern.test(value)) throw generatorError(`Invalid ${option} "${value}".`, hint);
  return value;
}

function settingsFrom(tree: Tree, schema: CiWorkflowGeneratorSchema): WorkflowSettings {
  const nxJson = readWorkspaceNxJson(tree);
  const pluginArches = readPluginOptions(tree)?.arches;
  const setupCommand = schema.setupCommand?.trim();
  if (setupCommand !== undefined && (setupCommand === '' || setupCommand.includes('\n'))) {
    throw generatorError('setupCommand must be one non-empty line.', 'Put several steps in a script (e.g. tools/setup.sh) and pass --setupCommand="sudo bash tools/setup.sh".');
  }
  return {
    name: check(schema.name ?? 'nx-multiarch', NAME, 'name', 'Use letters, digits, ".", "_" and "-" (it becomes .github/workflows/<name>.yml).'),
    arches: parseArchList(schema.arches ?? pluginArches ?? [...DEFAULT_ARCHES]),
    mainBranch: check(schema.mainBranch ?? nxJson.defaultBase ?? 'main', BRANCH, 'mainBranch', 'Give a branch name such as main or release/2.14.'),
    nodeVersion: check(schema.nodeVersion ?? '20', NODE_VERSION, 'nodeVersion', 'Give a Node.js version such as 20, 22.11 or lts/*; Nx 24 needs 20.19 or later.'),
    runsOn: check(schema.runsOn ?? 'ubuntu-latest', RUNNER, 'runsOn', 'Give one runner label such as ubuntu-latest or ubuntu-24.04.'),
    ...(setupCommand ? { setupCommand } : {}),
  };
}

/** Writes the GitHub Actions workflow; every option is checked before anything is written. */
export async function ciWorkflowGenerator(tree: Tree, schema: CiWorkflowGeneratorSchema = {}): Promise<void> {
  await withReadableErrors(async () => {
    const settings = settingsFrom(tree, schema);
    const path = `.github/workflows/${settings.name}.yml`;
    if (tree.exists(path) && !schema.overwrite) {
      throw generatorError(`${path} exists already.`, 'Pass --overwrite to replace it, or --name=<another name> to write a second workflow.');
    }
    const workflow = buildWorkflow(settings);
    tree.write(path, toYaml(workflow, WORKFLOW_HEADER));
    logger.info(`Wrote ${path}: build matrix ${settings.arches.join(', ')}; publish on ${settings.mainBranch} and tags.`);
    if (!schema.skipFormat) await formatFiles(tree);
  });
}

export default ciWorkflowGenerator;
