import { globToRegExp, matchesAnyGlob } from '../util/path-glob';

/**
 * What a repository holds that it does not release: import-repo makes no
 * project of these, so no image of them gets a manifest-push. Each rule can be
 * turned off by name, and any path kept by glob, with the `include` option.
 */
export const NON_RELEASE_RULES = {
  fuzz: 'fuzz crates (a fuzz/ or fuzzing/ folder, a crate named *-fuzz or fuzz-*)',
  examples: 'examples (an examples/ or example/ folder)',
  tests: 'test code and test images (test/, tests/, testdata/, e2e/ and integration/ folders; Dockerfile.test, *-test.Dockerfile)',
  devcontainer: 'devcontainers (a .devcontainer/ folder)',
  development: 'Dockerfiles named or marked for development (Dockerfile.dev, dev.Dockerfile, *.dev.Dockerfile, a "development only" comment)',
} as const;

export type NonReleaseRule = keyof typeof NON_RELEASE_RULES;

export const RULE_NAMES = Object.keys(NON_RELEASE_RULES) as NonReleaseRule[];

const WORD = (words: string) => new RegExp(`(^|[._-])(${words})([._-]|$)`, 'i');
const FUZZ_FOLDERS = new Set(['fuzz', 'fuzzing']);
const FUZZ_NAME = /^fuzz([_-]|$)|[_-]fuzz$/i;
const EXAMPLE_FOLDERS = new Set(['examples', 'example']);
const TEST_FOLDERS = new Set(['test', 'tests', 'testdata', 'testing', 'e2e', 'integration', 'integration-tests']);
const TEST_NAME = WORD('test|tests|e2e|testing');
const DEV_NAME = WORD('dev|devel|development|local');
const DEV_COMMENT = /\b(development|dev|local)[ -]only\b|\bnot for (production|release)\b|\bfor (local )?development\b/i;

/** What a rule is asked about: a project candidate at a repository-relative folder. */
export interface Candidate {
  /** Repository-relative folder ('' for the root). */
  dir: string;
  kind: 'go' | 'cargo' | 'dockerfile';
  /** The crate name, or the image name a Dockerfile's file name carries. */
  name?: string;
  /** The Dockerfile's leading comments. */
  comments?: string;
}

/** The rule that leaves the candidate out, or undefined when it is a release artifact. */
export function nonReleaseRule(c: Candidate): NonReleaseRule | undefined {
  const segments = c.dir.split('/').filter(Boolean);
  const lower = segments.map((s) => s.toLowerCase());
  if (lower.some((s) => FUZZ_FOLDERS.has(s)) || (c.kind === 'cargo' && c.name !== undefined && FUZZ_NAME.test(c.name))) return 'fuzz';
  if (lower.some((s) => EXAMPLE_FOLDERS.has(s))) return 'examples';
  if (lower.includes('.devcontainer')) return 'devcontainer';
  if (lower.some((s) => TEST_FOLDERS.has(s)) || (c.kind === 'dockerfile' && c.name !== undefined && TEST_NAME.test(c.name))) return 'tests';
  if (c.kind === 'dockerfile' && ((c.name !== undefined && DEV_NAME.test(c.name)) || DEV_COMMENT.test(c.comments ?? ''))) return 'development';
  return undefined;
}

export interface RuleOverrides {
  /** Rules turned off. */
  off: Set<NonReleaseRule>;
  /** Repository-relative globs kept whatever the rules say. */
  keep: RegExp[];
}

/** `include`: rule names turn a rule off; anything else is a glob of folders or files to keep. */
export function parseInclude(value: string | string[] | undefined): RuleOverrides {
  const items = value === undefined ? [] : (typeof value === 'string' ? value.split(',') : value).map((v) => v.trim()).filter(Boolean);
  const off = new Set<NonReleaseRule>();
  const keep: RegExp[] = [];
  for (const item of items) {
    if ((RULE_NAMES as string[]).includes(item)) off.add(item as NonReleaseRule);
    else keep.push(globToRegExp(item));
  }
  return { off, keep };
}

/** The rule that leaves out the candidate at `path` (repository-relative), after the overrides. */
export function leftOutBy(c: Candidate, path: string, overrides: RuleOverrides): NonReleaseRule | undefined {
  const rule = nonReleaseRule(c);
  if (rule === undefined || overrides.off.has(rule)) return undefined;
  const segments = path.split('/').filter(Boolean);
  const kept = segments.some((_, i) => matchesAnyGlob(segments.slice(0, i + 1).join('/'), overrides.keep));
  return kept ? undefined : rule;
}
