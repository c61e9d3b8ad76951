import { basename, posix, relative, resolve } from 'node:path';
import { formatFiles, logger, readNxJson, writeJson, type ProjectConfiguration, type Tree } from '@nx/devkit';
import { addGitignoreEntries } from '../init/gitignore';
import { addNamedInputs } from '../init/named-inputs';
import { generatorError, withReadableErrors } from '../support/generator-error';
import { PLUGIN_NAME, readPluginOptions, registerPlugin } from '../support/plugin-entry';
import { DEFAULT_PLUGIN_OPTIONS } from '../support/plugin-options-input';
import { findCargoBinaryPackages } from './cargo-packages';
import { findDockerfiles } from './dockerfiles';
import { findGoMains } from './go-packages';
import { planImport, type ImportPlan, type PlannedProject } from './plan';
import { CLI_FOREIGN_BUILDS, cliTargetName } from './targets';
import { NON_RELEASE_RULES, parseInclude, RULE_NAMES, type NonReleaseRule } from '../../project/release-rules';
import { listRepoFiles, repoFilesFrom } from './repo-files';
import type { ImportRepoGeneratorSchema } from './schema';
import { copyIntoTree, listSourceFiles, readSourceFile, resolveSource } from './source';
import { workspaceBinaries, workspaceProjects } from './workspace-binaries';

/** Targets import-repo owns in a project.json; any other target there is left alone. */
const OWN_TARGETS = ['go-cross', 'cargo-cross', 'docker-arch-build', 'cli-assets', ...CLI_FOREIGN_BUILDS.map(({ os, arch }) => cliTargetName(os, arch))];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function excludeList(value: ImportRepoGeneratorSchema['exclude']): string[] {
  if (value === undefined) return [];
  return (typeof value === 'string' ? value.split(',') : value).map((g) => g.trim()).filter(Boolean);
}

function repoNameOf(tree: Tree, schema: ImportRepoGeneratorSchema): string {
  if (!schema.source || schema.source.trim() === '') {
    throw generatorError('import-repo needs the repository folder.', 'Pass --source=<folder>: a folder inside the workspace (imported in place) or outside it (copied in).');
  }
  if (schema.prefix !== undefined && schema.name !== undefined && schema.prefix !== schema.name) {
    throw generatorError(`--prefix=${schema.prefix} and --name=${schema.name} disagree.`, 'Pass only --prefix (--name is its older spelling).');
  }
  const name = schema.prefix ?? schema.name ?? basename(resolve(tree.root, schema.source));
  if (!NAME.test(name)) {
    throw generatorError(
      `"${name}" cannot prefix project names.`,
      'Pass --prefix=<letters, digits, ".", "_" or "-", starting with a letter or digit>.',
    );
  }
  return name;
}

/**
 * One prefix per repository: a prefix another imported repository's projects
 * carry (their `repo:<prefix>` tag) would make names that clash.
 */
function checkPrefixFree(tree: Tree, projects: Map<string, ProjectConfiguration>, prefix: string, inRepo: (root: string) => boolean): void {
  const other = [...projects.values()].find((p) => !inRepo(p.root) && (p.tags ?? []).includes(`repo:${prefix}`));
  if (other) {
    const repos = readPluginOptions(tree)?.importedRepositories ?? [];
    const repoRoot = repos.find((r) => other.root === r || other.root.startsWith(`${r}/`)) ?? other.root;
    throw generatorError(
      `The prefix "${prefix}" is already the prefix of the repository imported at ${repoRoot} (project ${other.name}): the project names would clash.`,
      'Pass --prefix=<a name no other imported repository uses>, e.g. the repository folder name with its owner.',
    );
  }
}

/** Records the repository in the plugin options, so inference leaves alone what the import did not configure. */
function recordImportedRepository(tree: Tree, repoRoot: string): void {
  const current = readPluginOptions(tree) ?? {};
  const repos = current.importedRepositories ?? [];
  if (repos.includes(repoRoot)) return;
  registerPlugin(tree, DEFAULT_PLUGIN_OPTIONS, { importedRepositories: [...repos, repoRoot].sort() });
}

function leftOutSummary(plan: ImportPlan, repoRoot: string): string[] {
  if (plan.leftOut.length === 0 && plan.bundles.length === 0) return [];
  const byRule = new Map<string, string[]>();
  for (const l of plan.leftOut) byRule.set(l.rule, [...(byRule.get(l.rule) ?? []), posix.relative(repoRoot, l.path) || '.']);
  return [
    ...[...byRule].map(([rule, paths]) => `Not imported, ${NON_RELEASE_RULES[rule as NonReleaseRule]}: ${paths.join(', ')}. Import them with --include=${rule} or --include=<glob>.`),
    ...plan.bundles.map((b) => `${posix.relative(repoRoot, b)}: its last stage bundles binaries for other systems, not an image: no docker-arch-build or manifest-push for it.`),
  ];
}

interface ProjectJson extends Omit<ProjectConfiguration, 'root'> {
  $schema?: string;
}

function projectJsonFor(tree: Tree, project: PlannedProject, overwrite: boolean): ProjectJson {
  const path = posix.join(project.root, 'project.json');
  const schemaPath = relative(project.root, 'node_modules/nx/schemas/project-schema.json').split('\\').join('/');
  const fresh: ProjectJson = {
    $schema: schemaPath,
    name: project.name,
    projectType: 'application',
    sourceRoot: project.root,
    tags: project.tags,
    ...(project.implicitDependencies.length > 0 ? { implicitDependencies: project.implicitDependencies } : {}),
    targets: project.targets,
  };
  if (!tree.exists(path) || !overwrite) return fresh;
  const existing = JSON.parse(tree.read(path, 'utf-8') ?? '{}') as ProjectJson;
  const kept = Object.fromEntries(Object.entries(existing.targets ?? {}).filter(([name]) => !OWN_TARGETS.includes(name)));
  return {
    ...fresh,
    ...existing,
    tags: [...new Set([...(existing.tags ?? []), ...project.tags])],
    implicitDependencies: [...new Set([...(existing.implicitDependencies ?? []), ...project.implicitDependencies])],
    targets: { ...kept, ...project.targets },
  };
}

function summary(plan: ImportPlan, repoRoot: string): string {
  const lines = plan.projects.map((p) => {
    const root = posix.relative(repoRoot, p.root) || '.';
    return `  ${p.name} (${root}): ${Object.keys(p.targets).join(', ')} — from ${p.origins.join(' + ')}`;
  });
  return [`Imported ${plan.projects.length} project(s) from ${repoRoot}:`, ...lines].join('\n');
}

/**
 * Imports a repository: copies it in when it lives outside the workspace,
 * finds its Go mains, Cargo binary packages and Dockerfiles, and writes a
 * project.json per project. Every check runs before the first write, and Nx
 * writes the Tree only if the generator returns, so a failure changes nothing.
 */
export async function importRepoGenerator(tree: Tree, schema: ImportRepoGeneratorSchema): Promise<void> {
  await withReadableErrors(async () => {
    const repoName = repoNameOf(tree, schema);
    if (schema.versionEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema.versionEnv)) {
      throw generatorError(`--versionEnv=${schema.versionEnv} is not an environment variable name.`, 'Pass a name such as LINKERD2_PROXY_VERSION (letters, digits and _).');
    }
    const appsDir = readNxJson(tree)?.workspaceLayout?.appsDir ?? 'packages';
    const source = resolveSource(tree, schema.source, schema.directory, posix.join(appsDir, repoName));
    const projects = workspaceProjects(tree);
    const inRepo = (root: string) => root === source.repoRoot || root.startsWith(`${source.repoRoot}/`);
    checkPrefixFree(tree, projects, repoName, inRepo);

    // An outside repository is scanned where it is and copied only once the plan holds.
    const outside = source.copyFrom ? listSourceFiles(source.copyFrom) : undefined;
    const exclude = excludeList(schema.exclude);
    const outsideByPath = new Map((outside?.files ?? []).map((f) => [posix.join(source.repoRoot, f.path), f]));
    const repo = outside
      ? repoFilesFrom(source.repoRoot, [...outsideByPath.keys()], (path) => {
          const file = outsideByPath.get(path);
          return file ? readSourceFile(file).toString('utf8') : '';
        }, exclude)
      : listRepoFiles(tree, source.repoRoot, exclude);
    const folders = new Set(repo.files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    const layout = {
      repoRoot: source.repoRoot,
      repoName,
      goMains: findGoMains(repo),
      cargoPackages: findCargoBinaryPackages(repo),
      dockerfiles: findDockerfiles(repo),
      pathExists: (path: string) => repo.has(path) || folders.has(path),
      pathKind: (path: string) => (repo.has(path) ? ('file' as const) : folders.has(path) ? ('dir' as const) : undefined),
      takenNames: new Set([...projects].filter(([, p]) => !inRepo(p.root)).map(([name]) => name)),
      existingNames: new Map([...projects].filter(([, p]) => inRepo(p.root)).map(([name, p]) => [p.root, name])),
      existingGoOutputNames: new Map(
        [...projects.values()]
          .filter((p) => inRepo(p.root) && typeof p.targets?.['go-cross']?.options?.outputName === 'string')
          .map((p) => [p.root, p.targets?.['go-cross']?.options?.outputName as string]),
      ),
      workspaceBinaries: workspaceBinaries(tree, projects, source.repoRoot),
      overrides: parseInclude(schema.include),
      arches: readPluginOptions(tree)?.arches ?? DEFAULT_PLUGIN_OPTIONS.arches,
      ...(schema.versionEnv ? { versionEnv: schema.versionEnv } : {}),
    };
    if (layout.goMains.length + layout.cargoPackages.length + layout.dockerfiles.length === 0) {
      throw generatorError(
        `Found no Go main package, Cargo package with a binary, or Dockerfile in ${source.repoRoot}.`,
        'Check --source (and --exclude); import-repo configures Go (go.mod + package main), Rust (Cargo.toml with a binary) and Dockerfile builds.',
      );
    }

    const plan = planImport(layout);
    if (plan.projects.length === 0) {
      throw generatorError(
        `Nothing in ${source.repoRoot} ships: ${[...plan.leftOut].sort((a, b) => a.path.localeCompare(b.path)).map((l) => `${posix.relative(source.repoRoot, l.path)} (${l.rule})`).join(', ')}${plan.bundles.length > 0 ? `, bundle stages ${plan.bundles.join(', ')}` : ''}.`,
        `Pass --include=<rule or glob> to import what the rules leave out (rules: ${RULE_NAMES.join(', ')}).`,
      );
    }
    const clashes = plan.projects.filter((p) => projects.has(p.name) && !inRepo(projects.get(p.name)?.root ?? ''));
    if (clashes.length > 0) {
      throw generatorError(
        `These names are taken by projects outside ${source.repoRoot}: ${clashes.map((p) => `${p.name} (${projects.get(p.name)?.root})`).join(', ')}.`,
        'Pass --prefix=<a prefix no other repository uses>.',
      );
    }
    const conflicts = plan.projects.map((p) => posix.join(p.root, 'project.json')).filter((f) => tree.exists(f) || outsideByPath.has(f));
    if (conflicts.length > 0 && !schema.overwrite) {
      throw generatorError(
        `These project.json files exist already: ${conflicts.join(', ')}.`,
        'Pass --overwrite to replace their go-cross, cargo-cross and docker-arch-build targets (other targets and the name are kept).',
      );
    }

    if (outside) {
      copyIntoTree(tree, outside.files, source.repoRoot);
      logger.info(`Copied ${outside.files.length} file(s) from ${source.copyFrom} to ${source.repoRoot}.`);
      if (outside.skippedLinks.length > 0) {
        logger.warn(`Symbolic links not copied (copy their targets by hand if the build needs them): ${outside.skippedLinks.join(', ')}`);
      }
    }
    if (readPluginOptions(tree) === undefined) {
      registerPlugin(tree, DEFAULT_PLUGIN_OPTIONS, {});
      addNamedInputs(tree);
      addGitignoreEntries(tree);
      logger.info(`Registered ${PLUGIN_NAME} in nx.json (as \`nx g ${PLUGIN_NAME}:init\` does).`);
    }
    recordImportedRepository(tree, source.repoRoot);
    for (const project of plan.projects) {
      writeJson(tree, posix.join(project.root, 'project.json'), projectJsonFor(tree, project, schema.overwrite === true));
    }
    logger.info(summary(plan, source.repoRoot));
    for (const line of leftOutSummary(plan, source.repoRoot)) logger.info(line);
    for (const warning of plan.warnings) logger.warn(`warning: ${warning}`);
    if (!schema.skipFormat) await formatFiles(tree);
  });
}

export default importRepoGenerator;
