import type { Tree } from '@nx/devkit';

/**
 * Folders the plugin writes that must never be committed: build outputs
 * (dist/), Nx's local cache, and the Cargo target folders cargo-cross keeps
 * outside the projects.
 */
export const IGNORED_PATHS = ['dist', '.nx/cache', '.nx/workspace-data', '.nx-multiarch'] as const;

/** `dist`, `/dist`, `dist/` and `/dist/` all ignore the root dist folder. */
function normalise(line: string): string {
  return line.trim().replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Appends the missing entries to .gitignore (creating it), leaving every existing line as it is. */
export function addGitignoreEntries(tree: Tree, entries: readonly string[] = IGNORED_PATHS): string[] {
  const existing = tree.read('.gitignore', 'utf-8') ?? '';
  const present = new Set(existing.split(/\r?\n/).map(normalise));
  // `.nx` ignores everything below it, cache and workspace data included.
  const missing = entries.filter((e) => !present.has(e) && !(e.startsWith('.nx/') && present.has('.nx')));
  if (missing.length === 0) return [];
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const block = ['# nx-multiarch: build outputs and caches', ...missing.map((e) => `/${e}`)].join('\n');
  tree.write('.gitignore', `${existing}${separator}${existing === '' ? '' : '\n'}${block}\n`);
  return missing;
}
