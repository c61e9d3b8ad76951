import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { globToRegExp } from './glob';

/**
 * .dockerignore as Docker reads it: one pattern a line, `#` comments, `!`
 * re-includes, the last matching pattern wins, and a pattern that matches a
 * folder excludes everything below it. Excluded paths cannot be COPY'd, the
 * same as with docker build.
 */
export interface IgnoreRule {
  pattern: string;
  regex: RegExp;
  exclude: boolean;
}

export class IgnoreMatcher {
  constructor(readonly rules: readonly IgnoreRule[]) {}

  static parse(text: string): IgnoreMatcher {
    const rules: IgnoreRule[] = [];
    for (const rawLine of text.split(/\r?\n/)) {
      let line = rawLine.trim();
      if (line === '' || line.startsWith('#')) continue;
      let exclude = true;
      if (line.startsWith('!')) {
        exclude = false;
        line = line.slice(1).trim();
      }
      const pattern = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (pattern === '' || pattern === '.') continue;
      rules.push({ pattern, regex: globToRegExp(pattern), exclude });
    }
    return new IgnoreMatcher(rules);
  }

  /** Reads the first of the given files that exists; none gives a matcher that ignores nothing. */
  static async load(candidates: readonly string[]): Promise<IgnoreMatcher> {
    for (const file of candidates) {
      try {
        return IgnoreMatcher.parse(await readFile(file, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return new IgnoreMatcher([]);
  }

  /** True when some re-include rule exists, so an excluded folder may still hold included files. */
  get hasExceptions(): boolean {
    return this.rules.some((r) => !r.exclude);
  }

  /** Whether a context-relative path is excluded. */
  ignores(path: string): boolean {
    if (this.rules.length === 0 || path === '') return false;
    const candidates: string[] = [];
    for (let p = path; p !== '.' && p !== ''; p = posix.dirname(p)) candidates.push(p);
    let excluded = false;
    for (const rule of this.rules) {
      if (candidates.some((c) => rule.regex.test(c))) excluded = rule.exclude;
    }
    return excluded;
  }
}
