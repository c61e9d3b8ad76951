import { readdir } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';

/**
 * Finds a project's arch integration test files from glob patterns relative
 * to the project root (`integration/**\/*.arch.test.ts` by default). Small on
 * purpose: `**`, `*`, `?` and `{a,b}` are all the patterns need, and the walk
 * starts at each pattern's fixed prefix and skips build folders, so a Rust
 * project's target/ is never crawled.
 */
export const DEFAULT_TEST_MATCH = ['integration/**/*.arch.test.ts'];
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'target', 'dist', '.nx']);

export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '{') {
      braces += 1;
      out += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces -= 1;
      out += ')';
    } else if (ch === ',' && braces > 0) out += '|';
    else out += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** The folder part of a pattern before its first wildcard (`integration` for `integration/**\/*.ts`). */
export function staticPrefix(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?{]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/');
}

async function walk(root: string, dir: string, found: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await walk(root, path, found);
    } else if (entry.isFile()) {
      found.push(relative(root, path).split(sep).join('/'));
    }
  }
}

/** Absolute paths of the matching files, sorted, without repeats. */
export async function findTestFiles(projectRoot: string, patterns: readonly string[] = DEFAULT_TEST_MATCH): Promise<string[]> {
  const matches = new Set<string>();
  for (const pattern of patterns) {
    const regex = globToRegExp(posix.normalize(pattern).replace(/^\.\//, ''));
    const files: string[] = [];
    await walk(projectRoot, join(projectRoot, staticPrefix(pattern)), files);
    for (const file of files) if (regex.test(file)) matches.add(join(projectRoot, file));
  }
  return [...matches].sort();
}

/** The folders Jest should crawl: each pattern's fixed prefix. */
export function testRoots(projectRoot: string, patterns: readonly string[] = DEFAULT_TEST_MATCH): string[] {
  return [...new Set(patterns.map((p) => join(projectRoot, staticPrefix(p))))];
}
