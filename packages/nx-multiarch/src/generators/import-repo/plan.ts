import { posix } from 'node:path';
import type { TargetConfiguration } from '@nx/devkit';
import type { CargoBinaryPackage } from './cargo-packages';
import type { DockerfileInfo } from './dockerfiles';
import type { GoMain } from './go-packages';
import { MultiarchError } from '../../errors';
import { proposeDownloadMapping, type PackageProject } from '../../dockerfile/download-map';
import { planStages, type StagePlan } from '../../dockerfile/stage-graph';
import { uniqueProjectNames } from '../../graph/project-names';
import { producerOf, type WorkspaceProjectInfo } from '../../image/stage-producers';
import { PLATFORMS, type Arch } from '../../platform/platforms';
import { goCrossOptions } from '../../project/target-templates';
import { leftOutBy, type NonReleaseRule, type RuleOverrides } from '../../project/release-rules';
import { joinPath } from './repo-files';
import { cargoCrossTarget, cliTargets, crossOutput, dockerArchBuildTarget, goCrossTarget, type Artifact } from './targets';

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
  /** Which of the two it is (build stages probe the context); pathExists alone reads every path as a file. */
  pathKind?: (path: string) => 'file' | 'dir' | undefined;
  /** Projects already in the workspace, outside the repository: their names are taken. */
  takenNames: ReadonlySet<string>;
  /** Names already given to projects at roots inside the repository (kept when re-importing). */
  existingNames: ReadonlyMap<string, string>;
  /** go-cross outputName already set in a project.json inside the repository, by root (kept when re-importing). */
  existingGoOutputNames: ReadonlyMap<string, string>;
  workspaceBinaries: readonly WorkspaceBinary[];
  /** The plugin's arches (the linux builds a CLI is released for). */
  arches?: readonly string[];
  /** The environment variable release pipelines set the version in (option and cache input of every cross target). */
  versionEnv?: string;
  /** The `include` option: non-release rules turned off, paths kept. */
  overrides?: RuleOverrides;
}

/** Something a non-release rule kept out of the import. */
export interface LeftOut {
  /** Workspace-relative path: the folder of a Go main or crate, the Dockerfile. */
  path: string;
  rule: NonReleaseRule;
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
  leftOut: LeftOut[];
  /** Dockerfiles whose last stage bundles binaries for other systems: not images. */
  bundles: string[];
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
  /** A bundle Dockerfile in this folder ships the binary for darwin and windows too. */
  cli?: boolean;
  name?: string;
  artifacts: Artifact[];
  artifactProjects: Set<Draft | string>;
  /** The downloads option proposed for its image: a downloaded release mapped to the project that builds it. */
  downloads?: Record<string, string>;
}

function binaryNames(d: Draft): string[] {
  return [...(d.goOutputName ? [d.goOutputName] : []), ...(d.cargo?.bins ?? [])];
}

function sanitise(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * A main in a `cmd` folder (`controller/cmd`) would be written as `cmd` by
 * go build; repositories name that binary after the folder above
 * (`go build -o controller ./controller/cmd`), and so does the import.
 */
function goOutputName(layout: ImportLayout, main: GoMain): string {
  const parent = posix.dirname(main.dir);
  return posix.basename(main.dir) === 'cmd' && main.dir !== layout.repoRoot && parent !== layout.repoRoot && parent !== '.' ? posix.basename(parent) : main.binaryName;
}

/** Projects for the binaries: one per Go main package, one per Cargo package with a binary. */
function binaryDrafts(layout: ImportLayout): Map<string, Draft> {
  const drafts = new Map<string, Draft>();
  const at = (root: string) => {
    const d = drafts.get(root) ?? { root, artifacts: [], artifactProjects: new Set() };
    drafts.set(root, d);
    return d;
  };
  for (const main of layout.goMains) Object.assign(at(main.dir), { go: main, goOutputName: layout.existingGoOutputNames.get(main.dir) ?? goOutputName(layout, main) });
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

/** Folder names that say what a folder is, not which program: `controller/cmd` is the controller. */
const GENERIC_FOLDERS = new Set(['cmd', 'main', 'app', 'src', 'bin', 'server']);

/** The name of a project without the repository prefix: the image, the crate, or the folder. */
function shortName(layout: ImportLayout, d: Draft): string {
  if (d.root === layout.repoRoot) return layout.repoName;
  if (d.imageName ?? d.cargo?.name) return (d.imageName ?? d.cargo?.name) as string;
  const base = posix.basename(d.root);
  const parent = posix.basename(posix.dirname(d.root));
  return GENERIC_FOLDERS.has(base) && posix.dirname(d.root) !== layout.repoRoot && parent !== '.' ? parent : base;
}

function prefixed(repo: string, short: string): string {
  return short === repo || short.startsWith(`${repo}-`) ? short : `${repo}-${short}`;
}

function nameCandidates(layout: ImportLayout, d: Draft, short: string): string[] {
  const repo = layout.repoName;
  const first = prefixed(repo, short);
  const byPath = `${repo}-${posix.relative(layout.repoRoot, d.root).split('/').filter((s) => s !== IMAGE_PROJECTS_FOLDER).join('-')}`;
  const imageOnly = !d.go && !d.cargo;
  return [...new Set([first, ...(imageOnly ? [`${first}-image`] : []), byPath].map(sanitise))];
}

/**
 * Names: kept where a project already had one; else `<prefix>-<short name>`,
 * where short names that repeat inside the repository (every `cmd`) are
 * lengthened by their path until unique, so no two projects of one import
 * can clash. A name another repository's project holds is only numbered, with
 * a warning, when every candidate is taken.
 */
function assignNames(layout: ImportLayout, drafts: Draft[], warnings: string[]): void {
  const used = new Set(layout.takenNames);
  for (const d of drafts) {
    const existing = layout.existingNames.get(d.root);
    if (existing !== undefined) {
      d.name = existing;
      used.add(existing);
    }
  }
  const unnamed = drafts.filter((x) => x.name === undefined);
  const binaries = unnamed.filter((x) => x.go || x.cargo);
  const images = unnamed.filter((x) => !x.go && !x.cargo);
  // Unique inside the repository, binaries and image-only projects each (an image-only one takes -image below).
  const shorts = new Map<string, string>();
  for (const group of [binaries, images]) {
    const unique = uniqueProjectNames(group.map((d) => ({ root: d.root, name: shortName(layout, d) })));
    for (const [root, name] of unique) shorts.set(root, name);
  }
  // Binary projects name first: the clean name goes to the binary, an image-only project takes -image.
  for (const d of [...binaries, ...images]) {
    const candidates = nameCandidates(layout, d, shorts.get(d.root) as string);
    let name = candidates.find((c) => !used.has(c));
    if (name === undefined) {
      const base = !d.go && !d.cargo ? candidates[1] : candidates[0];
      for (let n = 2; name === undefined; n++) if (!used.has(`${base}-${n}`)) name = `${base}-${n}`;
      warnings.push(`${d.root}: ${candidates.join(', ')} are taken by projects outside this repository, so it is named ${name}; pass --prefix=<a prefix no other repository uses> for names unique by construction.`);
    }
    d.name = name;
    used.add(name);
  }
}

/** A COPY source the repository does not have is something a build must stage. */
function isMissing(layout: ImportLayout, context: string, source: string): boolean {
  return !layout.pathExists(joinPath(context, source));
}

/**
 * The build context of a Dockerfile: of its folder and each folder above it up
 * to the repository root, the one where most of its COPY sources (every stage)
 * exist; the nearest on a tie (and when none exist). Real repositories often build every image from
 * the repository root (`COPY go.mod go.sum ./`, `COPY controller controller`).
 */
export function inferContext(layout: Pick<ImportLayout, 'repoRoot' | 'pathExists'>, file: DockerfileInfo): string {
  let best = file.dir;
  let bestCount = -1;
  for (let dir = file.dir; ; dir = posix.dirname(dir) === '.' ? '' : posix.dirname(dir)) {
    // A source that names the Dockerfile's own folder (or one above it) is no evidence: any context above has it.
    const count = file.allCopySources.filter((s) => {
      const path = joinPath(dir, s);
      return layout.pathExists(path) && path !== file.dir && !file.dir.startsWith(`${path}/`);
    }).length;
    if (count > bestCount) {
      best = dir;
      bestCount = count;
    }
    if (dir === layout.repoRoot || dir === '') break;
  }
  return best;
}

function contextOf(d: Draft): string {
  return d.image?.context ?? d.image?.dir ?? d.root;
}

/** Leaves out what a non-release rule names (unless `include` keeps it). */
function releaseOnly(layout: ImportLayout, leftOut: LeftOut[]): Pick<ImportLayout, 'goMains' | 'cargoPackages' | 'dockerfiles'> {
  const overrides = layout.overrides ?? { off: new Set<NonReleaseRule>(), keep: [] };
  const inside = (path: string) => posix.relative(layout.repoRoot, path);
  const keep = <T>(items: readonly T[], path: (t: T) => string, candidate: (t: T) => Parameters<typeof leftOutBy>[0]): T[] =>
    items.filter((item) => {
      const rule = leftOutBy(candidate(item), inside(path(item)), overrides);
      if (rule !== undefined) leftOut.push({ path: path(item), rule });
      return rule === undefined;
    });
  return {
    goMains: keep(layout.goMains, (m) => m.dir, (m) => ({ dir: inside(m.dir), kind: 'go' })),
    cargoPackages: keep(layout.cargoPackages, (p) => p.dir, (p) => ({ dir: inside(p.dir), kind: 'cargo', name: p.name })),
    dockerfiles: keep(layout.dockerfiles, (f) => f.path, (f) => ({ dir: inside(f.dir), kind: 'dockerfile', name: f.suffix ?? posix.basename(f.path), comments: f.headerComments })),
  };
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
    const missing = d.image.copySources.filter((s) => isMissing(layout, contextOf(d), s));
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
    for (const source of image.copySources.filter((s) => isMissing(layout, contextOf(d), s))) {
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

/** Go and Cargo projects of the import, as docker-arch-build's stage-producers rule reads projects. */
function producerProjects(drafts: readonly Draft[]): WorkspaceProjectInfo[] {
  return drafts
    .filter((d) => d.go)
    .map((d) => ({ name: d.name as string, root: d.root, targets: { 'go-cross': { executor: 'nx-multiarch:go-cross', options: { ...goCrossOptions((d.go as GoMain).moduleRoot, d.root), outputName: d.goOutputName } } } }));
}

/** The draft that builds what a cargo build of a build stage compiles: the crate by -p name, else the package at its folder. */
function cargoProducer(drafts: readonly Draft[], origin: { crate?: string; cwd: string }, context: string): Draft | undefined {
  const dir = joinPath(context, origin.cwd);
  return drafts.find((d) => d.cargo && (origin.crate !== undefined ? d.cargo.name === origin.crate : d.root === dir));
}

/**
 * A release a Dockerfile downloads (Linkerd's proxy image fetches
 * `linkerd2-proxy-<version>-<arch>.tar.gz`) mapped to the project that builds
 * that package, in this import or already in the workspace
 * (dockerfile/download-map.ts proposeDownloadMapping): the image's downloads
 * option, an edge, and its cargo-cross before it.
 */
function proposeDownloads(layout: ImportLayout, drafts: Draft[]): void {
  const packages = new Map<string, Draft | string>();
  for (const d of drafts) if (d.cargo) packages.set(d.name as string, d);
  for (const b of layout.workspaceBinaries) if (b.kind === 'rust' && !packages.has(b.project)) packages.set(b.project, b.project);
  const projects: PackageProject[] = [...packages.keys()].map((name) => ({ name, crossTarget: 'cargo-cross' }));
  for (const d of drafts) {
    if (!d.image) continue;
    for (const url of d.image.urls) {
      const proposal = proposeDownloadMapping(url, projects);
      if (!proposal) continue;
      const producer = packages.get(proposal.target.split(':')[0]);
      if (producer === undefined || producer === d) continue;
      d.downloads = { ...d.downloads, [proposal.pattern]: proposal.target };
      d.artifactProjects.add(producer);
    }
  }
}

/** A virtual absolute root, so the stage-producers rule (absolute paths) runs on the Tree's workspace-relative ones. */
const VIRTUAL_ROOT = '/workspace';

/**
 * The multi-stage understanding of docker-arch-build applied at import: for
 * every arch, the build stages' go build / cargo build (dockerfile/stage-graph.ts)
 * are mapped to the project of the import that builds them
 * (image/stage-producers.ts), so the image depends on that project's cross
 * target as the build will; what cannot be built without running a stage is
 * reported with its lines, as the build would.
 */
function stageProducers(layout: ImportLayout, drafts: Draft[], warnings: string[]): void {
  proposeDownloads(layout, drafts);
  const projects = producerProjects(drafts);
  const outputNames = new Map<Draft, string[]>();
  const arches = (layout.arches ?? ['amd64']).filter((a): a is Arch => a in PLATFORMS);
  for (const d of drafts) {
    const image = d.image;
    if (!image?.parsed) continue;
    const context = contextOf(d);
    const probe = (path: string): 'file' | 'dir' | undefined => layout.pathKind?.(joinPath(context, path)) ?? (layout.pathExists(joinPath(context, path)) ? 'file' : undefined);
    const blockers = new Map<number, string>();
    const unbuilt = new Map<number, string>();
    const staged = new Set<string>();
    for (const arch of arches) {
      let plan: StagePlan;
      try {
        plan = planStages({ parsed: image.parsed, buildArgs: {}, target: PLATFORMS[arch], probe, ...(d.downloads ? { downloads: d.downloads } : {}) });
      } catch (error) {
        if (!(error instanceof MultiarchError)) throw error;
        blockers.set(0, error.message);
        break;
      }
      for (const b of plan.blockers) blockers.set(b.line, `line ${b.line}: ${b.reason}`);
      for (const item of plan.items) {
        const origin = item.origin;
        // Served from the package the downloads entry names (proposed below, before planning).
        if (origin.kind === 'download') continue;
        if (origin.kind === 'context') {
          // A build stage's COPY of something the repository lacks (a fetch stage's release files) is staged like a final-stage one.
          if (origin.path !== '' && !layout.pathExists(joinPath(context, origin.path))) staged.add(origin.path);
          continue;
        }
        if (origin.kind === 'cargo') {
          const producer = cargoProducer(drafts, origin, context);
          if (producer) d.artifactProjects.add(producer);
          else unbuilt.set(origin.line, `line ${origin.line}: cargo build of ${origin.crate ?? (origin.cwd || '.')}`);
          continue;
        }
        try {
          const producer = producerOf(origin, { workspaceRoot: VIRTUAL_ROOT, contextDir: posix.join(VIRTUAL_ROOT, context), projects, dockerfileLabel: image.path });
          const draft = drafts.find((x) => x.name === producer.project);
          if (!draft) continue;
          d.artifactProjects.add(draft);
          // `go build -o /out/linkerd-debug ./debug`: the binary's name is the one the Dockerfile gives it.
          const named = posix.basename(item.stagePath);
          if (!layout.existingGoOutputNames.has(draft.root) && named !== draft.goOutputName) {
            outputNames.set(draft, [...new Set([...(outputNames.get(draft) ?? []), named])]);
          }
        } catch (error) {
          if (!(error instanceof MultiarchError)) throw error;
          unbuilt.set(origin.line, `line ${origin.line}: go build of ${origin.packageDir || '.'}`);
        }
      }
    }
    const extra = [...staged].filter((p) => !image.copySources.includes(p));
    if (extra.length > 0) d.image = { ...image, copySources: [...image.copySources, ...extra] };
    if (unbuilt.size > 0) {
      warnings.push(`${image.path}: no project of the import builds what its build stages compile (${[...unbuilt.values()].join('; ')}); docker-arch-build will name the fix. Import the repository that holds it, or set ${d.name}'s context option.`);
    }
    if (blockers.size > 0) {
      warnings.push(
        `${image.path}: the native engine cannot build it (${[...blockers.values()].join('; ')}). Do that work in a FROM --platform=$BUILDPLATFORM stage with go build/cargo build and COPY --from its output, or opt in to emulation (allowEmulation: true, or engine "docker").`,
      );
    }
  }
  // One name from every Dockerfile that builds the binary: go-cross writes it under that name.
  for (const [draft, names] of outputNames) {
    if (names.length === 1) draft.goOutputName = names[0];
    else warnings.push(`${draft.root}: Dockerfiles build its binary as ${names.join(' and ')}; go-cross keeps ${draft.goOutputName} (set its outputName to the one you ship).`);
  }
}

function imageWarnings(d: Draft, warnings: string[]): void {
  if (d.image?.problem) warnings.push(`${d.image.path}: ${d.image.problem} The image target was written without artifacts.`);
}

function toProject(layout: ImportLayout, d: Draft): PlannedProject {
  const targets: Record<string, TargetConfiguration> = {};
  const tags = new Set<string>();
  const origins: string[] = [];
  if (d.go) {
    targets['go-cross'] = goCrossTarget(d.go, d.goOutputName as string, layout.versionEnv);
    tags.add('lang:go');
    origins.push(`Go main package (binary ${d.goOutputName})`);
    if (d.cli) {
      // Linux assets come from go-cross itself (its per-arch variants); the other systems from targets of their own.
      const releaseName = d.name as string;
      targets['go-cross'] = { ...targets['go-cross'], options: { ...targets['go-cross'].options, releaseName } };
      Object.assign(targets, cliTargets(d.go, d.goOutputName as string, releaseName, layout.arches ?? ['amd64', 'arm64', 'arm'], layout.versionEnv));
      tags.add('cli');
      origins.push('CLI bundle stage (release assets for linux, darwin and windows)');
    }
  }
  if (d.cargo) {
    targets['cargo-cross'] = cargoCrossTarget(d.cargo, layout.versionEnv);
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
      ...(d.downloads ? { downloads: d.downloads } : {}),
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

export function planImport(input: ImportLayout): ImportPlan {
  const warnings: string[] = [];
  const leftOut: LeftOut[] = [];
  const kept = releaseOnly(input, leftOut);
  const bundles = kept.dockerfiles.filter((f) => f.bundle);
  const images = kept.dockerfiles.filter((f) => !f.bundle).map((f) => ({ ...f, context: inferContext(input, f) }));
  const layout: ImportLayout = { ...input, ...kept, dockerfiles: images };
  const byRoot = binaryDrafts(layout);
  // A bundle stage ships its folder's binary for darwin and windows: that main is a CLI.
  for (const bundle of bundles) {
    const d = byRoot.get(bundle.dir);
    if (d?.go) d.cli = true;
  }
  attachDockerfiles(layout, byRoot);
  const drafts = [...byRoot.values()].sort((a, b) => a.root.localeCompare(b.root));
  assignNames(layout, drafts, warnings);
  stageProducers(layout, drafts, warnings);
  renameOwnGoBinaries(layout, drafts);
  resolveArtifacts(layout, drafts, warnings);
  for (const d of drafts) imageWarnings(d, warnings);
  return { projects: drafts.map((d) => toProject(layout, d)), warnings, leftOut, bundles: bundles.map((b) => b.path) };
}
