import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { linkerd2Shape, proxyInitShape, proxyShape, type RepoFiles } from '../../packages/nx-multiarch/test/support/repo-shapes';
import { fail, loadPlugin } from './plugin';

/**
 * import-repo and the project graph on a real-size repository (issue 15's
 * goal: under 10 s for 100 crates / 1,500 files): a Linkerd-proxy-shaped
 * Cargo workspace of CRATES crates with FILES files each (fuzz crates and a
 * devcontainer included), next to the linkerd2 and proxy-init shapes, all
 * under vendor/ of a fresh workspace. Times, in one run each:
 *   1. the generator (scan, plan, project.json files written to disk);
 *   2. `nx show projects` cold: Nx's whole project graph with the plugin
 *      (no daemon, workspace data removed), which is also the check that no
 *      two projects share a name.
 *
 *   node -r @swc-node/register tools/bench/import-repo.ts [CRATES] [FILES]   (default 100 15)
 */
function writeRepo(root: string, files: RepoFiles): number {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return Object.keys(files).length;
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  const [cratesText = '100', filesText = '15'] = process.argv.slice(2);
  const repoRoot = join(__dirname, '..', '..');
  const { importRepoGenerator } = loadPlugin();
  const ws = mkdtempSync(join(tmpdir(), 'nxm-bench-import-'));
  try {
    writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'bench-import', private: true }));
    writeFileSync(join(ws, 'nx.json'), JSON.stringify({ plugins: [{ plugin: 'nx-multiarch', options: { arches: ['amd64', 'arm64', 'arm'] } }] }));
    symlinkSync(join(repoRoot, 'node_modules'), join(ws, 'node_modules'));
    const proxyFiles = writeRepo(join(ws, 'vendor/linkerd2-proxy'), proxyShape({ crates: Number(cratesText), filesPerCrate: Number(filesText), fuzzEvery: 10 }));
    writeRepo(join(ws, 'vendor/linkerd2'), linkerd2Shape());
    writeRepo(join(ws, 'vendor/linkerd2-proxy-init'), proxyInitShape());

    const nx = (args: string[]): string =>
      execFileSync(process.execPath, [join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), ...args], { cwd: ws, env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' }, encoding: 'utf8' });
    const cold = (): number => {
      rmSync(join(ws, '.nx'), { recursive: true, force: true });
      const t0 = process.hrtime.bigint();
      nx(['show', 'projects', '--json']);
      return seconds(t0);
    };
    const before = cold();

    let importTime = 0;
    for (const repo of ['vendor/linkerd2-proxy', 'vendor/linkerd2', 'vendor/linkerd2-proxy-init']) {
      const t0 = process.hrtime.bigint();
      const tree = new FsTree(ws, false);
      await importRepoGenerator(tree, { source: repo, skipFormat: true });
      flushChanges(ws, tree.listChanges());
      const took = seconds(t0);
      if (repo === 'vendor/linkerd2-proxy') importTime = took;
      console.log(`import-repo ${repo}: ${took.toFixed(2)} s`);
    }
    const after = cold();
    const projects = JSON.parse(nx(['show', 'projects', '--json'])) as string[];
    console.log(
      `${Number(cratesText)} crates, ${proxyFiles} files in the proxy shape: import ${importTime.toFixed(2)} s; ` +
        `nx show projects cold ${before.toFixed(2)} s before the imports, ${after.toFixed(2)} s after (${projects.length} projects); ` +
        `import + graph ${(importTime + after).toFixed(2)} s`,
    );
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

main().catch(fail);
