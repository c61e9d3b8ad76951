import { join } from 'node:path';
import { fail, loadImagePlugin } from './plugin';

/**
 * Builds CONTEXT/Dockerfile for ARCH into LAYOUT with one of the plugin's
 * engines, called directly (no Nx), and prints the manifest digest.
 *
 *   engine-build.ts native|docker CONTEXT ARCH LAYOUT BLOB_CACHE [LAYER_CACHE]
 *
 * LAYER_CACHE: the native engine's compressed layers by diff_id, as
 * docker-arch-build keeps them in .nx-multiarch/layer-cache; without it the
 * native engine compresses every layer.
 */
async function main(): Promise<void> {
  const [engineName, context, arch, layout, blobCache, layerCache] = process.argv.slice(2);
  const { PLATFORMS, NativeEngine, DockerEngine, parseArchList } = loadImagePlugin();
  const [parsed] = parseArchList([arch]);
  const engine = engineName === 'docker' ? new DockerEngine() : new NativeEngine();
  const result = await engine.build({
    platform: PLATFORMS[parsed],
    dockerfile: join(context, 'Dockerfile'),
    contextDir: context,
    buildArgs: {},
    labels: {},
    sourceDateEpoch: 1700000000,
    tags: ['bench'],
    layoutDir: layout,
    blobCacheDir: blobCache,
    ...(layerCache ? { layerCacheDir: layerCache } : {}),
  });
  console.log(`${engineName} ${result.manifest.digest}`);
}

main().catch(fail);
