import { posix } from 'node:path';

/**
 * What the plugin reads from Go source files, written once: which files a
 * build compiles, the package a file declares (`//go:build ignore` files
 * belong to no build), the `//go:embed` files a binary carries, and the name
 * `go build` gives a binary. Both graph inference and import-repo use these.
 */

/** A Go file a build compiles (tests excluded). */
export function isGoBuildFile(name: string): boolean {
  return name.endsWith('.go') && !name.endsWith('_test.go');
}

/** Go ignores folders named testdata or vendor, and those starting with `_` or `.`, inside a module. */
export function ignoredByGo(dir: string, moduleRoot: string): boolean {
  const inside = posix.relative(moduleRoot, dir);
  return inside !== '' && inside.split('/').some((s) => s === 'testdata' || s === 'vendor' || s.startsWith('_') || s.startsWith('.'));
}

/** The package name of a Go file, or undefined for a file excluded from every build (`//go:build ignore`). */
export function goPackageName(source: string): string | undefined {
  const clause = /^package\s+([A-Za-z_]\w*)/m.exec(source);
  if (!clause) return undefined;
  const header = source.slice(0, clause.index);
  if (/^\/\/go:build\s+ignore\s*$/m.test(header) || /^\/\/\s*\+build\s+ignore\s*$/m.test(header)) return undefined;
  return clause[1];
}

/** A folder is a main package when one of its build files declares `package main`. */
export function isMainPackage(files: ReadonlyArray<{ name: string; read: () => string }>): boolean {
  return files.some((f) => isGoBuildFile(f.name) && goPackageName(f.read()) === 'main');
}

/** `//go:embed a b "c d"` → ['a', 'b', 'c d'] (an `all:` prefix dropped), relative to the file's folder. */
export function embedPatterns(source: string): string[] {
  const patterns: string[] = [];
  for (const match of source.matchAll(/^\/\/go:embed\s+(.+)$/gm)) {
    for (const word of match[1].match(/"[^"]*"|`[^`]*`|\S+/g) ?? []) {
      patterns.push(word.replace(/^["`]|["`]$/g, '').replace(/^all:/, ''));
    }
  }
  return patterns;
}

/** Comments blanked out; string literals kept whole (a `//` inside one is no comment). */
function withoutComments(source: string): string {
  return source.replace(/"(?:[^"\\\n]|\\.)*"|`[^`]*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (token) => (token.startsWith('/') ? ' ' : token));
}

/**
 * The import paths of a Go file: its `import "p"` lines and `import ( … )`
 * blocks, aliases and `_`/`.` imports included. Comments go first, so a `)`
 * in one cannot end a block early (an import path never holds a `)`).
 */
export function goImports(source: string): string[] {
  const code = withoutComments(source);
  const imports: string[] = [];
  const quoted = /"((?:[^"\\\n]|\\.)*)"|`([^`]*)`/g;
  for (const block of code.matchAll(/^import\s*\(([^)]*)\)/gm)) {
    for (const match of block[1].matchAll(quoted)) imports.push(match[1] ?? match[2]);
  }
  for (const line of code.matchAll(/^import\s+(?:[A-Za-z_.]\w*\s+)?("(?:[^"\\\n]|\\.)*"|`[^`]*`)/gm)) {
    imports.push(line[1].slice(1, -1));
  }
  return imports;
}

/** `v2`, `v3`…: a major-version path element (v0 and v1 never are). */
function isVersionElement(s: string): boolean {
  return /^v\d+$/.test(s) && s !== 'v0' && s !== 'v1' && !s.startsWith('v0');
}

/** Go's default executable name: the last import path element, skipping a major-version suffix. */
export function goBinaryName(importPath: string): string {
  const elements = importPath.split('/');
  const last = elements[elements.length - 1];
  return elements.length > 1 && isVersionElement(last) ? elements[elements.length - 2] : last;
}
