import { posix } from 'node:path';
import type { TargetConfiguration } from '@nx/devkit';
import type { CargoBinaryPackage } from './cargo-packages';
import type { DockerfileInfo } from './dockerfiles';
import type { GoMain } from './go-packages';
import { joinPath } from './repo-files';
import { cargoCrossTarget, crossOutput, dockerArchBuildTarget, goCrossTarget, type Artifact } from './targets';

/**
 * Pure planning: what import-repo found in a repository in, the projects to
 * write out. No Tree, no file system: every rule here is unit-tested on
 * layouts built in memory.
 */

/** A binary built by a project that is already in the workspace. */
export interface WorkspaceBinary {
  project: string;
  name: string;
  kind: 'go' | 'rust';
}

export interface ImportLayout {
  /** Workspace-relative folder of the repository. */
  repoRoot: string;
  repoName: string;
  goMains: GoMain[];
  cargoPackages: CargoBinaryPackage[];
  dockerfiles: DockerfileInfo[];
  /** Whether a workspace-relative path is a file or folder of the repository. */
  pathExists: (path: string) => boolean;
  /** Projects already in the workspace, outside the repository: their names are taken. */
  takenNames: ReadonlySet<string>;
  /** Names already given to projects at roots inside the repository (kept when re-importing). */
  existingNames: ReadonlyMap<string, string>;
  /** go-cross outputName already set in a project.json inside the repository, by root (kept when re-importing). */
  existingGoOutputNames: ReadonlyMap<string, string>;
  workspaceBinaries: readonly WorkspaceBinary[];
}

export interface PlannedProject {
  root: string;
  name: string;
  tags: string[];
  implicitDependencies: string[];
  targets: Record<string, TargetConfiguration>;
  /** What made it a project, for the summary ("Go main", "Cargo package", "Dockerfile.web"). */
  origins: string[];
}

export interface ImportPlan {
  projects: PlannedProject[];
  warnings: string[];
}

/** Folder, inside the folder of several Dockerfile.<image> files, that holds each image's project.json. */
export const IMAGE_PROJECTS_FOLDER = 'nx-images';

interface Draft {
  root: string;
  go?: GoMain;
  /** go-cross output name; starts as Go's default, renamed when the project's own Dockerfile copies another name. */
  goOutputName?: string;
  cargo?: CargoBinaryPackage;
  image?: DockerfileInfo;
  /** The image name from a Dockerfile.<image> that got its own project folder. */
  imageName?: string;
  name?: string;
  artifacts: Artifact[];
  artifactProjects: Set<Draft | string>;
}

function binaryNames(d: Draft): string[] {
  return [...(d.goOutputName ? [d.goOutputName] : []), ...(d.cargo?.bins ?? [])];
}

function sanitise(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Projects for the binaries: one per Go main package, one per Cargo package with a binary. */
function binaryDrafts(layout: ImportLayout): Map<string, Draft> {
  const drafts = new Map<string, Draft>();
  const at = (root: string) => {
    const d = drafts.get(root) ?? { root, artifacts: [], artifactProjects: new Set() };
    drafts.set(root, d);
    return d;
  };
  for (const main of layout.goMains) Object.assign(at(main.dir), { go: main, goOutputName: layout.existingGoOutputNames.get(main.dir) ?? main.binaryName });
  for (const pkg of layout.cargoPackages) at(pkg.dir).cargo = pkg;
  return drafts;
}

/**
 * Gives each Dockerfile a project: a plain Dockerfile belongs to the project
 * of its folder (made if there is none); Dockerfile.<image> joins the binary
 * project of that name when it has no image yet, and otherwise gets a project
 * folder of its own, <folder>/nx-images/<image>/ (Nx allows one project per folder).
 */
function attachDockerfiles(layout: ImportLayout, drafts: Map<string, Draft>): void {
  const sorted = [...layout.dockerfiles].sort((a, b) => a.path.localeCompare(b.path));
  for (const file of sorted.filter((f) => f.suffix === undefined)) {
    const d = drafts.get(file.dir) ?? { root: file.dir, artifacts: [], artifactProjects: new Set() };
    if (d.image) continue;
    d.image = file;
    drafts.set(file.dir, d);
  }
  for (const file of sorted.filter((f) => f.suffix !== undefined)) {
    const suffix = file.suffix as string;
    const candidates = [...drafts.values()].filter((d) => !d.image && (d.go || d.cargo)).sort((a, b) => a.root.localeCompare(b.root));
    const match =
      candidates.find((d) => binaryNames(d).includes(suffix) || d.cargo?.name === suffix) ??
      candidates.find((d) => posix.basename(d.root) === suffix);
    if (match) {
      match.image = file;
      continue;
    }
    const root = joinPath(file.dir, IMAGE_PROJECTS_FOLDER, suffix);
    drafts.set(root, { root, image: file, imageName: suffix, artifacts: [], artifactProjects: new Set() });
  }
}

function nameCandidates(layout: ImportLayout, d: Draft): string[] {
  const repo = layout.repoName;
  const short = d.root === layout.repoRoot ? repo : (d.imageName ?? d.cargo?.name ?? posix.basename(d.root));
  const first = short === repo || short.startsWith(`${repo}-`) ? short : `${repo}-${short}`;
  const byPath = `${repo}-${posix.relative(layout.repoRoot, d.root).split('/').filter((s) => s !== IMAGE_PROJECTS_FOLDER).join('-')}`;
  const imageOnly = !d.go && !d.cargo;
  return [...new Set([first, ...(imageOnly ? [`${first}-image`] : []), byPath].map(sanitise))];
}

/** Names: kept where a project already had one, else the first free candidate, else numbered. */
function assignNames(layout: ImportLayout, drafts: Draft[]): void {
  const used = new Set(layout.takenNames);
  for (const d of drafts) {
    const existing = layout.existingNames.get(d.root);
    if (existing !== undefined) {
      d.name = existing;
      used.add(existing);
    }
  }
  // Binary projects name first: the clean name goes to the binary, an image-only project takes -image.
  const unnamed = drafts.filter((x) => x.name === undefined);
  const ordered = [...unnamed.filter((x) => x.go || x.cargo), ...unnamed.filter((x) => !x.go && !x.cargo)];
  for (const d of ordered) {
    const candidates = nameCandidates(layout, d);
    let name = candidates.find((c) => !used.has(c));
    const base = !d.go && !d.cargo ? candidates[1] : candidates[0];
    for (let n = 2; name === undefined; n++) if (!used.has(`${base}-${n}`)) name = `${base}-${n}`;
    d.name = name;
    used.add(name);
  }
}

/** A COPY source the repository does not have is something a build must stage. */
function isMissing(layout: ImportLayout, context: string, source: string): boolean {
  return !layout.pathExists(joinPath(context, source));
}

/**
 * When an image's own project builds exactly one Go binary and its Dockerfile
 * copies exactly one file the repository lacks and no project builds, that
 * file is the binary under another name: go-cross is told to write that name
 * (Linkerd's debug image copies bin/linkerd-debug from the debug main).
 */
function renameOwnGoBinaries(layout: ImportLayout, drafts: Draft[]): void {
  const known = new Set([...drafts.flatMap(binaryNames), ...layout.workspaceBinaries.map((b) => b.name)]);
  for (const d of drafts) {
    if (!d.image || !d.go || d.cargo) continue;
    // A build stage that compiles this very package names the binary (go build -o /out/linkerd-debug ./debug).
    const compiled = d.image.goOutputs.find((o) => o.dir === d.go?.dir);
    if (compiled) {
      d.goOutputName = compiled.name;
      continue;
    }
    const missing = d.image.copySources.filter((s) => isMissing(layout, d.image!.context, s));
    if (missing.some((s) => known.has(posix.basename(s)))) continue;
    const candidates = missing.filter((s) => posix.basename(s) !== 'LICENSE');
    if (candidates.length === 1) d.goOutputName = posix.basename(candidates[0]);
  }
}

interface BinarySource {
  draft?: Draft;
  project: string;
  kind: 'go' | 'rust';
}

function binaryIndex(layout: ImportLayout, drafts: Draft[]): Map<string, BinarySource[]> {
  const index = new Map<string, BinarySource[]>();
  const add = (name: string, source: BinarySource) => index.set(name, [...(index.get(name) ?? []), source]);
  for (const d of drafts) {
    if (d.goOutputName) add(d.goOutputName, { draft: d, project: d.name as string, kind: 'go' });
    for (const bin of d.cargo?.bins ?? []) add(bin, { draft: d, project: d.name as string, kind: 'rust' });
  }
  // The repository's own binaries come first: they shadow a workspace project's binary of the same name.
  for (const b of layout.workspaceBinaries) if (!index.has(b.name)) add(b.name, { project: b.project, kind: b.kind });
  return index;
}

/** Artifacts of each image: every COPY source the repository lacks, matched to the project that builds it. */
function resolveArtifacts(layout: ImportLayout, drafts: Draft[], warnings: string[]): void {
  const index = binaryIndex(layout, drafts);
  for (const d of drafts) {
    if (!d.image) continue;
    const image = d.image;
    const unresolved: string[] = [];
    for (const source of image.copySources.filter((s) => isMissing(layout, image.context, s))) {
      const name = posix.basename(source);
      const to = posix.dirname(source);
      const builders = index.get(name) ?? [];
      if (builders.length > 1) {
        warnings.push(`${image.path}: COPY ${source}: ${builders.map((b) => b.project).join(' and ')} all build "${name}"; add the one you mean to ${d.name}'s artifacts option.`);
        continue;
      }
      if (builders.length === 0) {
        unresolved.push(source);
        continue;
      }
      const builder = builders[0];
      const artifact: Artifact = builder.kind === 'rust' ? { package: crossOutput(builder.project), to } : { from: crossOutput(builder.project), to };
      if (!d.artifacts.some((a) => JSON.stringify(a) === JSON.stringify(artifact))) d.artifacts.push(artifact);
      d.artifactProjects.add(builder.draft ?? builder.project);
    }
    // A Rust package artifact brings the LICENSE that Linkerd-style images copy beside the binary.
    const packageFolders = new Set(d.artifacts.filter((a) => 'package' in a).map((a) => a.to));
    const left = unresolved.filter((s) => !(posix.basename(s) === 'LICENSE' && packageFolders.has(posix.dirname(s))));
    for (const source of left) {
      warnings.push(
        `${image.path}: COPY ${source}: the file is not in the repository and no project builds "${posix.basename(source)}"; if a build makes it, add it to ${d.name}'s docker-arch-build artifacts option.`,
      );
    }
  }
}

function imageWarnings(d: Draft, warnings: string[]): void {
  if (!d.image) return;
  if (d.image.problem) warnings.push(`${d.image.path}: ${d.image.problem} The image target was written without artifacts.`);
  else if (d.image.nativeBlockers.length > 0) {
    warnings.push(
      `${d.image.path}: the native engine cannot build it (${d.image.nativeBlockers.join('; ')}); engine "auto" refuses it unless the target sets allowEmulation: true (then docker runs it, under emulation for foreign arches). Move that work into a FROM --platform=$BUILDPLATFORM stage whose go build/cargo build the plugin maps to go-cross/cargo-cross.`,
    );
  }
}

function toProject(layout: ImportLayout, d: Draft): PlannedProject {
  const targets: Record<string, TargetConfiguration> = {};
  const tags = new Set<string>();
  const origins: string[] = [];
  if (d.go) {
    targets['go-cross'] = goCrossTarget(d.go, d.goOutputName as string);
    tags.add('lang:go');
    origins.push(`Go main package (binary ${d.goOutputName})`);
  }
  if (d.cargo) {
    targets['cargo-cross'] = cargoCrossTarget(d.cargo);
    tags.add('lang:rust');
    origins.push(`Cargo package ${d.cargo.name} (bin ${d.cargo.bins.join(', ')})`);
  }
  const dependencies = [...d.artifactProjects].filter((p) => p !== d).map((p) => (typeof p === 'string' ? p : (p.name as string)));
  if (d.image) {
    const dependencyKinds = new Set<'go-cross' | 'cargo-cross'>();
    for (const p of d.artifactProjects) {
      if (p === d) continue;
      const kind = typeof p === 'string' ? layout.workspaceBinaries.find((b) => b.project === p)?.kind : p.go ? 'go' : 'rust';
      dependencyKinds.add(kind === 'rust' ? 'cargo-cross' : 'go-cross');
    }
    targets['docker-arch-build'] = dockerArchBuildTarget({
      dockerfile: d.image,
      artifacts: d.artifacts,
      ownCross: [...(d.go ? (['go-cross'] as const) : []), ...(d.cargo ? (['cargo-cross'] as const) : [])],
      dependencyCross: [...dependencyKinds].sort(),
    });
    tags.add('image');
    origins.push(posix.relative(layout.repoRoot, d.image.path));
  }
  return {
    root: d.root,
    name: d.name as string,
    tags: [...[...tags].sort(), `repo:${layout.repoName}`],
    implicitDependencies: [...new Set(dependencies)].sort(),
    targets,
    origins,
  };
}

export function planImport(layout: ImportLayout): ImportPlan {
  const warnings: string[] = [];
  const byRoot = binaryDrafts(layout);
  attachDockerfiles(layout, byRoot);
  const drafts = [...byRoot.values()].sort((a, b) => a.root.localeCompare(b.root));
  assignNames(layout, drafts);
  renameOwnGoBinaries(layout, drafts);
  resolveArtifacts(layout, drafts, warnings);
  for (const d of drafts) imageWarnings(d, warnings);
  return { projects: drafts.map((d) => toProject(layout, d)), warnings };
}
