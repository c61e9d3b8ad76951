import { posix } from 'node:path';
import { getProjects, type ProjectConfiguration, type Tree } from '@nx/devkit';
import { binariesOf } from './cargo-packages';
import { MultiarchError } from '../../errors';
import { parseCargoManifest } from '../../project/cargo-manifest';
import { goBinaryName } from '../../project/go-source';
import type { WorkspaceBinary } from './plan';
import { listRepoFiles } from './repo-files';

/** The projects the workspace already has (from project.json files), by name. */
export function workspaceProjects(tree: Tree): Map<string, ProjectConfiguration> {
  return getProjects(tree);
}

function optionsOf(project: ProjectConfiguration, executor: string): Record<string, unknown> | undefined {
  const target = Object.values(project.targets ?? {}).find((t) => t.executor === executor);
  return target ? ((target.options ?? {}) as Record<string, unknown>) : undefined;
}

function goBinaries(project: ProjectConfiguration, options: Record<string, unknown>): string[] {
  if (typeof options.outputName === 'string') return [options.outputName];
  const mains = Array.isArray(options.main) ? options.main.filter((m): m is string => typeof m === 'string') : ['.'];
  return mains.map((m) => (m === '.' || m === './' ? posix.basename(project.root) : goBinaryName(m.replace(/^\.\//, '').replace(/\/+$/, ''))));
}

function rustBinaries(tree: Tree, project: ProjectConfiguration, options: Record<string, unknown>): string[] {
  if (Array.isArray(options.bins)) return options.bins.filter((b): b is string => typeof b === 'string');
  const dir = typeof options.cwd === 'string' ? options.cwd : project.root;
  const text = tree.read(posix.join(dir, 'Cargo.toml'), 'utf-8');
  if (text === null) return [];
  try {
    return binariesOf({ dir, manifest: parseCargoManifest(text) }, listRepoFiles(tree, posix.join(dir, 'src')));
  } catch (error) {
    // A manifest cargo cannot read builds no binary another image could copy.
    if (error instanceof MultiarchError) return [];
    throw error;
  }
}

/**
 * Binaries the workspace's go-cross and cargo-cross targets already build, so
 * an imported image that copies one of them (the proxy image copying the
 * proxy built in another repository) gets it as an artifact.
 */
export function workspaceBinaries(tree: Tree, projects: Map<string, ProjectConfiguration>, skipRootsUnder: string): WorkspaceBinary[] {
  const binaries: WorkspaceBinary[] = [];
  for (const [name, project] of projects) {
    if (project.root === skipRootsUnder || project.root.startsWith(`${skipRootsUnder}/`)) continue;
    const go = optionsOf(project, 'nx-multiarch:go-cross');
    if (go) for (const bin of goBinaries(project, go)) binaries.push({ project: name, name: bin, kind: 'go' });
    const cargo = optionsOf(project, 'nx-multiarch:cargo-cross');
    if (cargo) for (const bin of rustBinaries(tree, project, cargo)) binaries.push({ project: name, name: bin, kind: 'rust' });
  }
  return binaries.sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name));
}
