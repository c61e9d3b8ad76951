import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';

/**
 * The named inputs the plugin's inferred targets refer to. Nx fails on a
 * target whose inputs name an undefined named input, and a workspace made by
 * hand (or by `nx init`) may define none, so init adds the missing ones.
 * Existing definitions are never changed: they are the team's.
 */
export const NAMED_INPUTS: Readonly<Record<'default' | 'production', string[]>> = {
  default: ['{projectRoot}/**/*'],
  // Tests and docs do not change what is built.
  production: [
    'default',
    '!{projectRoot}/**/*_test.go',
    '!{projectRoot}/**/*.test.ts',
    '!{projectRoot}/**/*.spec.ts',
    '!{projectRoot}/tests/**/*',
    '!{projectRoot}/**/*.md',
  ],
};

/** Adds `default` and `production` where nx.json lacks them; returns the names added. */
export function addNamedInputs(tree: Tree): string[] {
  const nxJson = readNxJson(tree);
  if (!nxJson) return [];
  const existing = nxJson.namedInputs ?? {};
  const missing = (Object.keys(NAMED_INPUTS) as Array<keyof typeof NAMED_INPUTS>).filter((name) => existing[name] === undefined);
  if (missing.length === 0) return [];
  updateNxJson(tree, { ...nxJson, namedInputs: { ...existing, ...Object.fromEntries(missing.map((n) => [n, [...NAMED_INPUTS[n]]])) } });
  return missing;
}
