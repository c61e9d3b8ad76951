import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec';
import { WORKSPACE_ROOT } from './cache-server';
import type { Clone } from './nx-clone';

/**
 * Fresh checkouts of this repository, as CI machines get them: `git clone`
 * of the last commit into a temp folder, packages installed, the plugin
 * compiled — and nothing built, nothing cached.
 *
 * "Installed" without the network: the clone gets its own node_modules
 * folder whose entries link to this workspace's installed packages, except
 * `nx-multiarch`, which npm workspaces link to the clone's own
 * packages/nx-multiarch (a relative link, so linking the whole folder would
 * send Nx to this workspace's plugin instead of the clone's). The plugin's
 * own node_modules (packages it pins apart from the root) is linked too.
 */
export interface Checkout {
  /** The checkout every clone is copied from (plugin compiled, nothing else built). */
  dir: string;
  /** The commit it holds. */
  commit: string;
  /** A new clone of the checkout with its own empty Nx cache folder. */
  clone(name: string): Promise<Clone>;
  /** Removes the checkout and every clone made from it. */
  remove(): Promise<void>;
}

const PLUGIN = join('packages', 'nx-multiarch');

async function checked(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, { cwd, timeoutMs: 300_000 });
  if (result.exitCode !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.exitCode}):\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** Links this workspace's installed packages into `dir`'s own node_modules, with nx-multiarch pointing at `dir`'s plugin. */
async function linkPackages(dir: string): Promise<void> {
  const installed = join(WORKSPACE_ROOT, 'node_modules');
  const own = join(dir, 'node_modules');
  await mkdir(own);
  for (const entry of await readdir(installed)) {
    if (entry === 'nx-multiarch') continue;
    await symlink(join(installed, entry), join(own, entry));
  }
  await symlink(join('..', PLUGIN), join(own, 'nx-multiarch'), 'dir');
  await symlink(join(WORKSPACE_ROOT, PLUGIN, 'node_modules'), join(dir, PLUGIN, 'node_modules'), 'dir').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export async function checkoutRepository(): Promise<Checkout> {
  const root = await mkdtemp(join(tmpdir(), 'nxm-checkout-'));
  const dir = join(root, 'checkout');
  const clones: string[] = [];
  try {
    await checked('git', ['clone', '--quiet', '--no-hardlinks', WORKSPACE_ROOT, dir], root);
    const commit = await checked('git', ['rev-parse', 'HEAD'], dir);
    await linkPackages(dir);
    // npm run build:plugin, as the clone's own `prepare` would run it.
    await checked(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(PLUGIN, 'tsconfig.lib.json')], dir);
    return {
      dir,
      commit,
      async clone(name) {
        const cloneRoot = await mkdtemp(join(tmpdir(), `nxm-clone-${name}-`));
        clones.push(cloneRoot);
        const cloneDir = join(cloneRoot, 'workspace');
        // Links are copied as links: the relative nx-multiarch link then names the copy's own plugin.
        await cp(dir, cloneDir, { recursive: true, verbatimSymlinks: true });
        return { dir: cloneDir, cacheDir: join(cloneRoot, 'nx-cache') };
      },
      async remove() {
        for (const c of clones) await rm(c, { recursive: true, force: true });
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
