import { MultiarchError } from '../../errors';
import { OciLayoutWriter } from '../../oci/layout';
import { Annotations, MediaTypes, toPlatform, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest } from '../../oci/types';
import { platformString } from '../../platform/platforms';
import { platformMatches } from '../../oci/platform-match';
import type { ResolvedBase } from './base-image';
import { resolveBaseFromSources } from './base-resolve';
import { BuildContext } from '../context/context';
import { nativeBlockers, nativeBlockersError, type ParsedDockerfile } from '../../dockerfile/parse';
import { DEFAULT_TAG, requestDockerfile, type BuildEngine, type BuildRequest, type BuildResult } from '../common/engine';
import { evaluateFrom, evaluateStage } from '../../dockerfile/evaluate-stage';
import { epochToRfc3339 } from '../../util/source-date-epoch';
import { LayerCache, writeLayerCached } from '../../oci/layer-cache';
import { collectStageFiles } from './stage-files';
import type { RunEnvironment } from './run-steps';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runFetchSteps } from './fetch-files';
import type { FetchOperation } from '../../dockerfile/evaluate-stage';
import { STAGED_ROOT } from '../../dockerfile/stage-graph';
import { makeSystemTempDir } from '../../util/system-temp';

function checkPlatformFlag(platform: string | undefined, request: BuildRequest, line: number): void {
  if (platform === undefined || platform === '') return;
  const [os, architecture, variant] = platform.split('/');
  if (!platformMatches({ os, architecture, ...(variant ? { variant } : {}) }, request.platform.oci)) {
    throw new MultiarchError(
      `FROM --platform=${platform} on line ${line} asks for another platform than the target ${platformString(request.platform.oci)}.`,
      'Drop --platform from the final FROM, or write --platform=$TARGETPLATFORM.',
    );
  }
}

/**
 * The daemonless engine: interprets the final stage of the Dockerfile and
 * writes the image straight into an OCI layout. The base's layers are
 * copied as they are (digests checked); everything the stage adds (COPY,
 * ADD, WORKDIR folders) goes into ONE new layer, which is fewer blobs to
 * hash, store and push than a layer per instruction, and the same bytes for
 * the same sources in any checkout.
 */
export class NativeEngine implements BuildEngine {
  readonly name = 'native' as const;

  async build(request: BuildRequest): Promise<BuildResult> {
    const parsed = await requestDockerfile(request);
    const blockers = nativeBlockers(parsed, request.downloads);
    if (blockers.length > 0) throw nativeBlockersError(blockers, parsed.name);

    const from = evaluateFrom(parsed, request.buildArgs, request.platform);
    checkPlatformFlag(from.platform, request, parsed.from.line);
    const { base, record } = await resolveBaseFromSources(from.image, {
      target: request.platform,
      searchDirs: [request.contextDir, ...(request.workspaceRoot ? [request.workspaceRoot] : [])],
      blobCacheDir: request.blobCacheDir,
      insecureRegistries: request.insecureRegistries,
      registryMirrors: request.registryMirrors,
      baseImages: request.baseImages,
      log: request.log,
    });
    try {
      return { ...(await this.assemble(request, parsed, base)), base: record };
    } finally {
      base.release();
    }
  }

  private async assemble(request: BuildRequest, parsed: ParsedDockerfile, base: ResolvedBase): Promise<BuildResult> {
    const stage = evaluateStage({ parsed, buildArgs: request.buildArgs, target: request.platform, baseConfig: base.config, sourceDateEpoch: request.sourceDateEpoch, downloads: request.downloads });
    // What docker-arch-build staged out of earlier stages is the plugin's, not subject to the user's .dockerignore.
    const context = await BuildContext.open(request.contextDir, request.dockerfile, [STAGED_ROOT]);
    const downloads = request.downloads ?? {};
    const writer = new OciLayoutWriter(request.layoutDir);
    const created = epochToRfc3339(request.sourceDateEpoch);
    const layers: Descriptor[] = [...base.layers];
    const diffIds = [...(base.config?.rootfs.diff_ids ?? [])];
    const history: HistoryEntry[] = [...(base.config?.history ?? []), ...stage.history];
    // ADD, download steps and package installs extract archives into this folder; the layer reads their files from there, then it goes.
    const extractDir = await makeSystemTempDir('extract');
    const environment: RunEnvironment = {
      target: request.platform,
      packageCacheDir: request.packageCacheDir ?? join(request.workspaceRoot ?? request.contextDir, '.nx-multiarch', 'debian'),
      ...(request.packageScriptsNotNeeded ? { packageScriptsNotNeeded: request.packageScriptsNotNeeded } : {}),
      ...(request.log ? { log: request.log } : {}),
      extractDir,
      installed: [],
    };
    try {
      const fetcher = (op: FetchOperation) =>
        runFetchSteps(op.steps, op.line, { workspaceRoot: request.workspaceRoot ?? request.contextDir, arch: request.arch ?? request.platform.arch, downloads, dockerfileName: parsed.name, extractDir });
      const entries = await collectStageFiles(stage.fileOperations, context, request.platform, { environment, scratch: base.scratch, fetcher, extractDir });
      await writer.init();
      await base.copyLayersTo(request.layoutDir);
      if (entries.length > 0) {
        const layerCache = request.layerCacheDir ? new LayerCache(request.layerCacheDir) : undefined;
        const layer = await writeLayerCached(entries, { mtime: request.sourceDateEpoch, includeParents: base.scratch }, writer, layerCache);
        if (layer.reused) request.log?.(`Layer ${layer.diffId}: the same files as a layer built before, so its compressed blob ${layer.descriptor.digest} came from the layer cache.`);
        layers.push(layer.descriptor);
        diffIds.push(layer.diffId);
        const lines = [...new Set(stage.fileOperations.map((op) => op.line))].join(', ');
        history.push({ created, created_by: `files of COPY/ADD/WORKDIR/RUN on lines ${lines}`, comment: 'nx-multiarch native: one layer for all files the stage adds' });
      }
    } finally {
      await rm(extractDir, { recursive: true, force: true });
    }

    const labels = { ...(stage.config.Labels ?? {}), ...request.labels };
    const config: ImageConfig = {
      created,
      ...(stage.author ? { author: stage.author } : {}),
      architecture: request.platform.oci.architecture,
      os: request.platform.oci.os,
      ...(request.platform.oci.variant ? { variant: request.platform.oci.variant } : {}),
      config: { ...stage.config, ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}) },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    if (Object.keys(labels).length === 0) delete config.config?.Labels;
    const configDescriptor = await writer.writeJsonBlob(config, MediaTypes.ociConfig);

    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: configDescriptor,
      layers,
      ...(Object.keys(base.annotations).length > 0 ? { annotations: base.annotations } : {}),
    };
    const manifestDescriptor = await writer.writeJsonBlob(manifest, MediaTypes.ociManifest);
    const listed: Descriptor = {
      ...manifestDescriptor,
      platform: toPlatform(request.platform.oci),
      annotations: { [Annotations.refName]: request.tags[0] ?? DEFAULT_TAG },
    };
    await writer.writeIndex([listed]);
    const packages = [...environment.installed]
      .map(({ name, version, architecture, sha256 }) => ({ name, version, architecture, sha256 }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { manifest: listed, config: configDescriptor, layers, ...(packages.length > 0 ? { packages } : {}) };
  }
}

export const nativeEngine = new NativeEngine();
