import { formatFiles, logger, type Tree } from '@nx/devkit';
import { DEFAULT_ARCHES } from '../../platform/platforms';
import { parseArchList } from '../../platform/parse-arch';
import { checkRustupToolchain } from '../../cross/arch-requirements';
import { generatorError, withReadableErrors } from '../support/generator-error';
import { readPluginOptions, readWorkspaceNxJson } from '../support/plugin-entry';
import { buildGitlabPipeline, GITLAB_HEADER } from './gitlab';
import { parseRunnerMap, resolveRunners, RUNNER_LABEL, type Provider } from './runners';
import type { CiWorkflowGeneratorSchema } from './schema';
import { buildWorkflow, WORKFLOW_HEADER, type WorkflowSettings } from './workflow';
import { readWorkspaceFacts } from './workspace-facts';
import { toYaml } from './yaml-text';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** What git allows in a branch name, less what would need quoting inside a workflow expression. */
const BRANCH = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const NODE_VERSION = /^(?:\d+(?:\.\d+){0,2}|\d+\.x|lts\/\*|lts\/[a-z]+|latest|node)$/;
const PROVIDERS: readonly Provider[] = ['github', 'gitlab'];

function check(value: string, pattern: RegExp, option: string, hint: string): string {
  if (!pattern.test(value)) throw generatorError(`Invalid ${option} "${value}".`, hint);
  return value;
}

function providerFrom(value: string | undefined): Provider {
  const provider = value ?? 'github';
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw generatorError(`Unknown CI provider "${provider}".`, `Use --provider=github (GitHub Actions) or --provider=gitlab (GitLab CI).`);
  }
  return provider as Provider;
}

function rustToolchainFrom(value: string | undefined): string {
  try {
    return checkRustupToolchain(value ?? 'stable');
  } catch {
    throw generatorError(`Invalid rustToolchain "${value}".`, 'Give a rustup toolchain name such as stable or 1.82.0, and set the cargo-cross option "toolchain" to the same name.');
  }
}

/** The runner for the publish job and every arch without a native one. */
function defaultRunner(provider: Provider, runsOn: string | undefined): string {
  if (runsOn !== undefined) return check(runsOn, RUNNER_LABEL, 'runsOn', 'Give one runner label such as ubuntu-latest or ubuntu-24.04.');
  // GitLab.com's hosted amd64 runner; a self-managed instance passes its own tag.
  return provider === 'github' ? 'ubuntu-latest' : 'saas-linux-small-amd64';
}

interface Plan {
  provider: Provider;
  path: string;
  settings: WorkflowSettings;
}

function planFrom(tree: Tree, schema: CiWorkflowGeneratorSchema): Plan {
  const nxJson = readWorkspaceNxJson(tree);
  const provider = providerFrom(schema.provider);
  const pluginArches = readPluginOptions(tree)?.arches;
  const setupCommand = schema.setupCommand?.trim();
  if (setupCommand !== undefined && (setupCommand === '' || setupCommand.includes('\n'))) {
    throw generatorError('setupCommand must be one non-empty line.', 'Put several steps in a script (e.g. tools/setup.sh) and pass --setupCommand="sudo bash tools/setup.sh".');
  }
  const name = check(schema.name ?? 'nx-multiarch', NAME, 'name', 'Use letters, digits, ".", "_" and "-" (it becomes .github/workflows/<name>.yml, or <name>.gitlab-ci.yml).');
  const arches = parseArchList(schema.arches ?? pluginArches ?? [...DEFAULT_ARCHES]);
  const runsOn = defaultRunner(provider, schema.runsOn);
  const legs = resolveRunners(arches, parseRunnerMap(schema.runners), provider, runsOn, schema.nativeRunners ?? true);
  const settings: WorkflowSettings = {
    name,
    arches,
    mainBranch: check(schema.mainBranch ?? nxJson.defaultBase ?? 'main', BRANCH, 'mainBranch', 'Give a branch name such as main or release/2.14.'),
    nodeVersion: check(schema.nodeVersion ?? '20', NODE_VERSION, 'nodeVersion', 'Give a Node.js version such as 20, 22.11 or lts/*; Nx 24 needs 20.19 or later.'),
    runsOn,
    legs,
    facts: readWorkspaceFacts(tree),
    rustToolchain: rustToolchainFrom(schema.rustToolchain),
    ...(setupCommand ? { setupCommand } : {}),
    isolatePlugins: schema.isolatePlugins ?? false,
  };
  // GitLab reads one .gitlab-ci.yml; a second pipeline file is for the team to `include:`.
  const path = provider === 'github' ? `.github/workflows/${name}.yml` : schema.name ? `${name}.gitlab-ci.yml` : '.gitlab-ci.yml';
  return { provider, path, settings };
}

/** Writes the CI file; every option is checked before anything is written. */
export async function ciWorkflowGenerator(tree: Tree, schema: CiWorkflowGeneratorSchema = {}): Promise<void> {
  await withReadableErrors(async () => {
    const { provider, path, settings } = planFrom(tree, schema);
    if (tree.exists(path) && !schema.overwrite) {
      throw generatorError(`${path} exists already.`, 'Pass --overwrite to replace it, or --name=<another name> to write a second workflow.');
    }
    const text = provider === 'github' ? toYaml(buildWorkflow(settings), WORKFLOW_HEADER) : toYaml(buildGitlabPipeline(settings), GITLAB_HEADER);
    tree.write(path, text);
    const runners = settings.legs.map((leg) => `${leg.arch}${leg.runner ? ` on ${leg.runner}` : ''}`).join(', ');
    logger.info(`Wrote ${path}: build matrix ${runners}; publish on ${settings.mainBranch} and tags.`);
    if (!schema.skipFormat) await formatFiles(tree);
  });
}

export default ciWorkflowGenerator;
