import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadPlugin } from './plugin';

/**
 * One side of tools/bench/repush.sh.
 *
 *   repush-run.ts write LAYOUTS            five synthetic images x 3 arches into LAYOUTS/dist/images
 *   repush-run.ts push PLUGIN_ROOT LAYOUTS REGISTRY [TAG]
 *                                          manifest-push (publishProject) of every image with the plugin
 *                                          of the checkout at PLUGIN_ROOT; prints "requests N"
 */
const ARCHES = ['amd64', 'arm64', 'arm'] as const;
const PROJECTS = ['proxy-init', 'controller', 'web', 'proxy', 'debug'];

function bytesFrom(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

async function write(root: string): Promise<void> {
  const { OciLayoutWriter, MediaTypes, PLATFORMS, toPlatform, createTar, gzipDeterministic } = loadPlugin();
  for (const project of PROJECTS) {
    for (const arch of ARCHES) {
      const dir = join(root, 'dist', 'images', project, arch);
      mkdirSync(dir, { recursive: true });
      const w = new OciLayoutWriter(dir);
      await w.init();
      const tar = await createTar([{ path: `${project}.bin`, type: 'file', content: bytesFrom(`${project}-${arch}`, 1024 * 1024) }], { mtime: 0 });
      const layers = [await w.writeBlob(gzipDeterministic(tar), MediaTypes.ociLayerGzip)];
      const oci = PLATFORMS[arch].oci;
      const config = await w.writeJsonBlob(
        { architecture: oci.architecture, os: oci.os, ...(oci.variant ? { variant: oci.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } },
        MediaTypes.ociConfig,
      );
      const manifest = await w.writeJsonBlob({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers }, MediaTypes.ociManifest);
      await w.writeIndex([{ ...manifest, platform: toPlatform(oci) }]);
    }
  }
}

async function push(pluginRoot: string, root: string, registry: string, tag: string): Promise<void> {
  const { publishProject } = loadPlugin(pluginRoot);
  let requests = 0;
  for (const project of readdirSync(join(root, 'dist', 'images')).sort()) {
    if (!ARCHES.every((a) => existsSync(join(root, 'dist', 'images', project, a, 'index.json')))) continue;
    const { report } = await publishProject({
      options: { registry, repository: `bench/${project}`, tags: tag, arches: [...ARCHES] },
      project: { workspaceRoot: root, name: project, root: project },
      log: () => undefined,
    });
    requests += report?.requests ?? 0;
  }
  console.log(`requests ${requests}`);
}

const [command, ...args] = process.argv.slice(2);
(command === 'write' ? write(args[0]) : command === 'push' ? push(args[0], args[1], args[2], args[3] ?? 'bench') : Promise.reject(new Error('usage: repush-run.ts write LAYOUTS | push PLUGIN_ROOT LAYOUTS REGISTRY [TAG]'))).catch(fail);
