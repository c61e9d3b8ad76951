import { visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { basename } from 'node:path';

/** What the generated CI must install toolchains and caches for. */
export interface WorkspaceFacts {
  /** The go.mod whose `go` line asks for the newest Go (setup-go reads the version from it); none without Go. */
  goVersionFile?: string;
  /** True when the workspace has a Cargo package. */
  hasRust: boolean;
  /** Every go.sum and Cargo.lock, sorted: what the dependency caches are keyed on. */
  goSums: string[];
  cargoLocks: string[];
}

/** `go 1.22` or `go 1.22.3` -> [1, 22, 3]. */
function goVersion(text: string): number[] | undefined {
  const match = /^go\s+(\d+(?:\.\d+){1,2})\s*$/m.exec(text);
  return match ? match[1].split('.').map(Number) : undefined;
}

function newer(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
}

/** Scans the files git would keep (node_modules, dist and target are ignored). */
export function readWorkspaceFacts(tree: Tree): WorkspaceFacts {
  const goMods: string[] = [];
  const goSums: string[] = [];
  const cargoLocks: string[] = [];
  let hasRust = false;
  visitNotIgnoredFiles(tree, '', (path) => {
    const name = basename(path);
    if (name === 'go.mod') goMods.push(path);
    if (name === 'go.sum') goSums.push(path);
    if (name === 'Cargo.lock') cargoLocks.push(path);
    if (name === 'Cargo.toml') hasRust = true;
  });
  let best: { path: string; version: number[] } | undefined;
  // Sorted, so equal versions pick the same file in any checkout.
  for (const path of goMods.sort()) {
    const version = goVersion(tree.read(path, 'utf-8') ?? '');
    if (version && (!best || newer(version, best.version))) best = { path, version };
  }
  return { ...(best ? { goVersionFile: best.path } : {}), hasRust, goSums: goSums.sort(), cargoLocks: cargoLocks.sort() };
}
