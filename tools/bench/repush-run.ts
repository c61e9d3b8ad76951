import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadPlugin } from './plugin';
import { bytesFrom, writeSyntheticImage } from './synthetic-image';

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

async function write(root: string): Promise<void> {
  const plugin = loadPlugin();
  for (const project of PROJECTS) {
    for (const arch of ARCHES) {
      const tar = await plugin.createTar([{ path: `${project}.bin`, type: 'file', content: bytesFrom(`${project}-${arch}`, 1024 * 1024) }], { mtime: 0 });
      await writeSyntheticImage(plugin, join(root, 'dist', 'images', project, arch), arch, [plugin.gzipDeterministic(tar)]);
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
