import { rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MultiarchError } from '../errors';
import { parseSingleArch, platformString } from '../platform';
import { removeOutput, writeDirAtomically } from '../util/atomic';
import { outputDir } from '../outputs/paths';
import { stageArtifacts, validateArtifacts, type ArtifactSpec } from './artifacts';
import { loadDockerfile, nativeBlockers, nativeBlockersError, type ParsedDockerfile } from '../dockerfile/parse';
import { DEFAULT_TAG, type BuildRequest } from './common/engine';
import { writeImageSummary, type ImageSummary } from '../outputs/image-summary';
import { attestImage, parseSbomFormat } from '../supply-chain/attest-image';
import type { SbomFormat } from '../outputs/image-summary';
import { chooseEngine, DEFAULT_ENGINES, parseEngineChoice, type EngineChoice, type EngineRegistry } from './engines';
import { resolveRevision, projectVersion, resolveSourceDateEpoch, sourceUrl, standardLabels } from './provenance';
import { createScratchContext } from './context/scratch-context';
import { processWord } from '../dockerfile/substitute';
import { validateBaseSourceOptions } from './native/base-resolve';
import { validateDownloadMap } from '../dockerfile/download-map';
import { planStages, type StagePlan } from '../dockerfile/stage-graph';
import { hostArch } from '../platform/platforms';
import { resolveContextDir, type ContextChoice } from './context-option';
import { stageOutputs } from './stage-outputs';
import type { WorkspaceProjectInfo } from './stage-producers';
import { statSync } from 'node:fs';

/**
 * The library function behind the docker-arch-build executor: one project's
 * image for one arch, from its Dockerfile and the other projects' outputs it
 * stages, written to dist/images/<project>/<arch>/ as an OCI image layout
 * with image.json (the summary) inside. The old output is removed first and
 * the new one swapped in whole, so a failure leaves nothing in dist.
 */

export interface BuildImageOptions {
  workspaceRoot: string;
  project: string;
  /** Project root, relative to the workspace. */
  projectRoot: string;
  /** The --arch value as given (it names the output folder, as Nx's `{options.arch}` does). */
  arch: string;
  /** Workspace-relative (or absolute) Dockerfile; default `<projectRoot>/Dockerfile`. */
  dockerfile?: string;
  /** `"dockerfile"` (the default: its folder), `"repository"` (see context-option.ts), or a workspace-relative (or absolute) folder. */
  context?: ContextChoice;
  engine?: EngineChoice | string;
  /** Let engine `auto` use docker where that runs target code under emulation (default false: refused instead). */
  allowEmulation?: boolean;
  /** The workspace's projects, to find who builds what a build stage compiles (go build, cargo build). */
  projects?: readonly WorkspaceProjectInfo[];
  buildArgs?: Record<string, string>;
  artifacts?: ArtifactSpec[] | unknown;
  labels?: Record<string, string>;
  tags?: string[];
  sourceDateEpoch?: number | string;
  version?: string;
  /** The org.opencontainers.image.revision label; default NX_MULTIARCH_REVISION. */
  revision?: string;
  source?: string;
  insecureRegistries?: string[];
  /** Registry host → mirrors tried in order before it, like BuildKit's `mirrors` (`{ "docker.io": ["127.0.0.1:5000"] }`). */
  registryMirrors?: Record<string, string[]> | unknown;
  /** FROM image → the image or `oci-layout://` path to use instead. */
  baseImages?: Record<string, string> | unknown;
  /** What the Dockerfile downloads (file-name or URL pattern) → `<project>:<target>` that builds it. */
  downloads?: Record<string, string> | unknown;
  /** Default `<workspace>/.nx-multiarch/blob-cache`. */
  blobCacheDir?: string;
  /** Debian package cache for RUN apt-get install (private apt state per arch, .debs); default NX_MULTIARCH_PACKAGE_CACHE, else `<workspace>/.nx-multiarch/debian`. */
  packageCacheDir?: string;
  /** Packages to install although they have maintainer scripts: the user checked the image works without them. */
  packageScriptsNotNeeded?: string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Workspace-relative root of a project, to find the lockfiles of the projects whose outputs are staged in. */
  projectRootOf?: (project: string) => string | undefined;
  /** The Nx target name, recorded in the provenance (default docker-arch-build). */
  target?: string;
  /** Who built it, as SLSA's builder.id (default NX_MULTIARCH_BUILDER_ID, else a local builder id). */
  builderId?: string;
  /** Write sbom.spdx.json and provenance.intoto.json beside image.json (default true). */
  attestations?: boolean;
  /** SBOM format(s): sbom.spdx.json, sbom.cdx.json (CycloneDX 1.6) or both (default spdx). */
  sbomFormat?: SbomFormat;
  /** The cross target (go-cross, cargo-cross) of a project, for hints about missing artifacts. */
  crossTargetOf?: (project: string) => string | undefined;
  /** Engines to use (tests replace them). */
  engines?: EngineRegistry;
}

export interface BuildImageResult {
  summary: ImageSummary;
  outputDir: string;
}

/** `{projectRoot}`, `{projectName}`, `{workspaceRoot}` in path options, in case Nx left them. */
function expandTokens(value: string, options: BuildImageOptions): string {
  return value
    .split('{projectRoot}')
    .join(options.projectRoot)
    .split('{projectName}')
    .join(options.project)
    .split('{workspaceRoot}')
    .join('.');
}

function workspacePath(root: string, value: string): string {
  return isAbsolute(value) ? value : resolve(root, value);
}

function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

function validateStringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MultiarchError(`The ${name} option must be an object of strings.`, `Write ${name} as { "NAME": "value" }.`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new MultiarchError(`${name}.${key} must be a string.`, `Write ${name} as { "NAME": "value" }.`);
    }
    out[key] = String(v);
  }
  return out;
}

/** Names of the labels the Dockerfile's final stage sets: those win over the standard defaults. */
function dockerfileLabelNames(parsed: ParsedDockerfile): Set<string> {
  const names = new Set<string>();
  for (const instruction of parsed.instructions) {
    if (instruction.kind !== 'LABEL') continue;
    for (const pair of instruction.pairs) names.add(processWord(pair.rawName, () => undefined, parsed.escape));
  }
  return names;
}

function isMultiStage(parsed: ParsedDockerfile): boolean {
  return parsed.stageCount > 1 || parsed.instructions.some((i) => i.kind === 'COPY' && i.flags.from !== undefined);
}

function probeContext(contextDir: string, path: string): 'file' | 'dir' | undefined {
  try {
    return statSync(join(contextDir, path)).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const ws = options.workspaceRoot;
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const platform = parseSingleArch(options.arch, 'docker-arch-build');
  const engineChoice = parseEngineChoice(options.engine);
  const artifacts = validateArtifacts(options.artifacts);
  const baseSources = validateBaseSourceOptions(options.registryMirrors, options.baseImages);
  const downloads = validateDownloadMap(options.downloads);
  const buildArgs = validateStringMap(options.buildArgs, 'buildArgs');
  const userLabels = validateStringMap(options.labels, 'labels');
  const sbomFormat = parseSbomFormat(options.sbomFormat);
  const tags = options.tags && options.tags.length > 0 ? [...options.tags] : [DEFAULT_TAG];

  const out = outputDir(ws, 'images', options.project, options.arch);
  // Removed before anything can fail, so a failed build leaves no stale image behind.
  await removeOutput(out);

  const dockerfile = workspacePath(ws, expandTokens(options.dockerfile ?? join(options.projectRoot, 'Dockerfile'), options));
  const dockerfileLabel = displayPath(ws, dockerfile);
  const parsed = await loadDockerfile(dockerfile, dockerfileLabel, options.project);
  const contextDir = resolveContextDir(ws, dockerfile, options.context === undefined ? undefined : expandTokens(options.context, options));
  if (!(await stat(contextDir).then((s) => s.isDirectory(), () => false))) {
    throw new MultiarchError(`Build context ${displayPath(ws, contextDir)} is not a folder.`, 'Set the context option to "dockerfile", "repository" or an existing folder.');
  }
  // A multi-stage Dockerfile is read stage by stage for this arch: what its build stages compile maps to workspace outputs.
  const stagePlan: StagePlan | undefined = isMultiStage(parsed)
    ? planStages({ parsed, buildArgs, target: platform, probe: (path) => probeContext(contextDir, path), downloads })
    : undefined;
  const nativeView: ParsedDockerfile = stagePlan ? { ...parsed, instructions: stagePlan.instructions } : parsed;
  const planned = stagePlan?.blockers ?? [];
  // A COPY --from the plan refused is already there with its reason.
  const blockers = [...planned, ...nativeBlockers(nativeView, downloads).filter((b) => !planned.some((p) => p.line === b.line))];
  const { engine, reason, emulation } = chooseEngine(engineChoice, blockers, options.engines ?? DEFAULT_ENGINES, {
    allowEmulation: options.allowEmulation === true,
    targetIsHost: platform.arch === hostArch(),
    arch: options.arch,
    dockerfileName: dockerfileLabel,
  });
  const sourceDateEpoch = await resolveSourceDateEpoch(options.sourceDateEpoch, env);
  const standard = standardLabels({
    source: await sourceUrl(ws, options.source),
    revision: resolveRevision(options.revision, env),
    version: await projectVersion(ws, options.projectRoot, options.version),
    sourceDateEpoch,
  });
  const fromDockerfile = dockerfileLabelNames(parsed);
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(standard)) if (!fromDockerfile.has(key)) labels[key] = value;
  Object.assign(labels, userLabels);

  log(`${options.project}: building ${dockerfileLabel} for ${platformString(platform.oci)} with the ${engine.name} engine (${reason})`);
  if (emulation) log(`${options.project}: WARNING: this build runs ${options.arch} code under emulation (qemu), which is slow; see the README on multi-stage Dockerfiles for the ways to avoid it`);
  if (engine.name === 'native' && blockers.length > 0) throw nativeBlockersError(blockers, dockerfileLabel);
  const useStages = engine.name === 'native' && stagePlan !== undefined && stagePlan.items.length > 0;
  let scratch: string | undefined;
  try {
    let buildContext = contextDir;
    const dependencyRoots: string[] = [];
    if (artifacts.length > 0 || useStages) {
      scratch = await createScratchContext(contextDir, join(ws, '.nx-multiarch', 'tmp'), `${options.project}-${options.arch}`, dockerfile);
      const staged = await stageArtifacts({ workspaceRoot: ws, arch: options.arch, artifacts, contextDir: scratch, crossTargetOf: options.crossTargetOf });
      for (const s of staged) log(`${options.project}: staged ${s.source} -> ${s.to}/ (${s.files.length} files)`);
      for (const s of staged) {
        const producer = /^dist\/[^/]+\/([^/]+)(\/|$)/.exec(s.source)?.[1];
        const root = producer ? options.projectRootOf?.(producer) : undefined;
        if (root !== undefined) dependencyRoots.push(root);
      }
      buildContext = scratch;
    }
    if (useStages && scratch && stagePlan) {
      const stagedOutputs = await stageOutputs({
        workspaceRoot: ws,
        contextDir,
        scratchDir: scratch,
        arch: options.arch,
        items: stagePlan.items,
        downloads,
        projects: options.projects ?? [],
        dockerfileLabel,
      });
      for (const s of stagedOutputs) {
        log(`${options.project}: stage ${s.item.stage} ${s.item.stagePath} <- ${s.source}${s.project ? ` (${s.project}:${s.target})` : ''}`);
        const root = s.project ? options.projectRootOf?.(s.project) : undefined;
        if (root !== undefined && !dependencyRoots.includes(root)) dependencyRoots.push(root);
      }
    }
    const summary = await writeDirAtomically(out, async (layoutDir) => {
      const request: BuildRequest = {
        platform,
        dockerfile,
        contextDir: buildContext,
        buildArgs,
        labels,
        sourceDateEpoch,
        tags,
        layoutDir,
        blobCacheDir: options.blobCacheDir ? workspacePath(ws, options.blobCacheDir) : join(ws, '.nx-multiarch', 'blob-cache'),
        layerCacheDir: join(ws, '.nx-multiarch', 'layer-cache'),
        packageCacheDir: options.packageCacheDir
          ? workspacePath(ws, options.packageCacheDir)
          : (env.NX_MULTIARCH_PACKAGE_CACHE ?? join(ws, '.nx-multiarch', 'debian')),
        ...(options.packageScriptsNotNeeded ? { packageScriptsNotNeeded: options.packageScriptsNotNeeded } : {}),
        workspaceRoot: ws,
        insecureRegistries: options.insecureRegistries,
        dockerfileLabel,
        parsedDockerfile: engine.name === 'native' ? nativeView : parsed,
        ...baseSources,
        downloads,
        arch: options.arch,
        log: (line) => log(`${options.project}: ${line}`),
      };
      const result = await engine.build(request);
      const imageSummary: ImageSummary = {
        project: options.project,
        arch: options.arch,
        platform: platformString(platform.oci),
        engine: engine.name,
        manifestDigest: result.manifest.digest,
        configDigest: result.config.digest,
        size: result.config.size + result.layers.reduce((sum, layer) => sum + layer.size, 0),
        layers: result.layers.length,
        tags,
        layout: '.',
        ...(result.packages ? { packages: result.packages } : {}),
        ...(result.base ? { base: result.base } : {}),
      };
      if (options.attestations !== false) {
        // Read back from the layout just written: the SBOM lists what ships.
        imageSummary.attestations = await attestImage({
          workspaceRoot: ws,
          layoutDir,
          project: options.project,
          projectRoot: options.projectRoot,
          target: options.target ?? 'docker-arch-build',
          arch: options.arch,
          platform: imageSummary.platform,
          dockerfile: dockerfileLabel,
          context: displayPath(ws, contextDir),
          sourceDateEpoch,
          revision: resolveRevision(options.revision, env),
          source: standard['org.opencontainers.image.source'],
          buildArgs,
          builderId: options.builderId,
          sbomFormat,
          dependencyRoots,
          env,
        });
      }
      await writeImageSummary(layoutDir, imageSummary);
      return imageSummary;
    });
    log(`${options.project}: ${summary.platform} image ${summary.manifestDigest} (${summary.layers} layers, ${summary.size} bytes) in ${displayPath(ws, out)}`);
    return { summary, outputDir: out };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
