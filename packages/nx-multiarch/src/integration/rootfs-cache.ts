import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackRootfs } from './rootfs';
import type { ResolvedImage } from './types';

/**
 * Unpacked root filesystems, one per manifest digest, shared by every process
 * of that image in this test file and removed by dispose(). A root is
 * unpacked beside its final name and renamed, so none is ever half there.
 */
export class RootfsCache {
  private readonly roots = new Map<string, Promise<string>>();
  private baseDir?: Promise<string>;

  constructor(private readonly parentDir: string = tmpdir()) {}

  private base(): Promise<string> {
    if (!this.baseDir) {
      this.baseDir = mkdir(this.parentDir, { recursive: true }).then(() => mkdtemp(join(this.parentDir, 'rootfs-')));
    }
    return this.baseDir;
  }

  rootfs(image: ResolvedImage): Promise<string> {
    let root = this.roots.get(image.manifestDigest);
    if (!root) {
      root = (async () => {
        const base = await this.base();
        const final = join(base, image.manifestDigest.replace(':', '-'));
        const partial = `${final}.partial`;
        await rm(partial, { recursive: true, force: true });
        await unpackRootfs(image, partial);
        await rename(partial, final);
        return final;
      })();
      root.catch(() => this.roots.delete(image.manifestDigest));
      this.roots.set(image.manifestDigest, root);
    }
    return root;
  }

  async dispose(): Promise<void> {
    const base = this.baseDir ? await this.baseDir.catch(() => undefined) : undefined;
    this.roots.clear();
    this.baseDir = undefined;
    if (base) await rm(base, { recursive: true, force: true });
  }
}
