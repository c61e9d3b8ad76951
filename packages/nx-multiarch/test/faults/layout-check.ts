import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a user (or manifest-push, or Nx restoring a cache) would trip over
 * after a killed build: an image folder under dist/images whose index.json
 * does not parse, or a blob whose bytes do not hash to its name, or a
 * descriptor pointing at a blob that is not there.
 */
export interface LayoutProblem {
  layout: string;
  problem: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Descriptor {
  digest: string;
}

export async function checkLayout(dir: string): Promise<LayoutProblem[]> {
  const problems: LayoutProblem[] = [];
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  } catch (error) {
    return [{ layout: dir, problem: `index.json unreadable: ${(error as Error).message}` }];
  }
  const blobDir = join(dir, 'blobs', 'sha256');
  const names = existsSync(blobDir) ? await readdir(blobDir) : [];
  for (const name of names) {
    const actual = await sha256File(join(blobDir, name));
    if (actual !== name) problems.push({ layout: dir, problem: `blob ${name} hashes to ${actual}` });
  }
  // Every manifest the index names, and everything that manifest names, must be present.
  for (const m of index.manifests ?? []) {
    const hex = m.digest.replace(/^sha256:/, '');
    if (!names.includes(hex)) {
      problems.push({ layout: dir, problem: `index names missing manifest ${m.digest}` });
      continue;
    }
    const manifest = JSON.parse(await readFile(join(blobDir, hex), 'utf8')) as { config?: Descriptor; layers?: Descriptor[] };
    for (const d of [manifest.config, ...(manifest.layers ?? [])]) {
      if (d && !names.includes(d.digest.replace(/^sha256:/, ''))) problems.push({ layout: dir, problem: `manifest ${m.digest} names missing blob ${d.digest}` });
    }
  }
  return problems;
}

/** Every visible (not dot-named) dist/images/<project>/<arch> folder, checked. */
export async function checkAllLayouts(workspace: string): Promise<{ layouts: string[]; problems: LayoutProblem[] }> {
  const root = join(workspace, 'dist', 'images');
  const layouts: string[] = [];
  const problems: LayoutProblem[] = [];
  if (!existsSync(root)) return { layouts, problems };
  for (const project of (await readdir(root)).filter((n) => !n.startsWith('.'))) {
    for (const arch of (await readdir(join(root, project))).filter((n) => !n.startsWith('.'))) {
      const dir = join(root, project, arch);
      layouts.push(dir);
      problems.push(...(await checkLayout(dir)));
    }
  }
  return { layouts, problems };
}

/**
 * Temporary folders a run leaves behind: `.<name>.tmp-*` anywhere under dist/
 * (two levels below each output kind), scratch contexts under
 * .nx-multiarch/tmp, and the plugin's `nx-multiarch-*` folders in the run's
 * system temporary directory, when given. Paths relative to the workspace
 * (the last kind: `$TMPDIR/<name>`); empty when all is clean.
 */
export async function findTempLitter(workspace: string, systemTmpDir?: string): Promise<string[]> {
  const found: string[] = [];
  const list = async (rel: string): Promise<string[]> => (existsSync(join(workspace, rel)) ? readdir(join(workspace, rel)) : []);
  const walk = async (rel: string, depth: number): Promise<void> => {
    for (const name of await list(rel)) {
      if (/^\..+\.tmp-/.test(name)) found.push(`${rel}/${name}`);
      else if (depth > 0 && !name.startsWith('.')) await walk(`${rel}/${name}`, depth - 1);
    }
  };
  await walk('dist', 2);
  for (const name of await list('.nx-multiarch/tmp')) found.push(`.nx-multiarch/tmp/${name}`);
  if (systemTmpDir) for (const name of await readdir(systemTmpDir)) if (name.startsWith('nx-multiarch-')) found.push(`$TMPDIR/${name}`);
  return found;
}

/** A small seeded generator (mulberry32), so a failing trial can be replayed with the same delays. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
