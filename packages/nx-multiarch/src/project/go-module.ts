import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * The one reader of go.mod, and the one rule for which module a folder
 * belongs to. Only the directives the plugin uses are read: `module` (binary
 * names, import-repo), `go` and `toolchain` (which Go a module asks for).
 */
export interface GoModFile {
  /** The module path, e.g. example.com/linkerd2. */
  modulePath?: string;
  /** The `go` directive: the language version, e.g. 1.22 or 1.22.3. */
  goVersion?: string;
  /** The `toolchain` directive, e.g. go1.23.1. */
  toolchain?: string;
}

/** A directive line `name value` (value optionally quoted), comments dropped. */
function directive(text: string, name: string): string | undefined {
  const match = new RegExp(`^\\s*${name}\\s+("?)([^\\s"]+)\\1\\s*(?://.*)?$`, 'm').exec(text);
  return match?.[2];
}

export function parseGoMod(text: string): GoModFile {
  const modulePath = directive(text, 'module');
  const goVersion = directive(text, 'go');
  const toolchain = directive(text, 'toolchain');
  return {
    ...(modulePath ? { modulePath } : {}),
    ...(goVersion ? { goVersion } : {}),
    ...(toolchain ? { toolchain } : {}),
  };
}

/** Reads `<dir>/go.mod`; undefined when there is none. */
export function readGoMod(dir: string): GoModFile | undefined {
  try {
    return parseGoMod(readFileSync(join(dir, 'go.mod'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every folder from `dir` up to the workspace root, nearest first ('' is the root). */
export function ancestorsOf(dir: string): string[] {
  const dirs: string[] = [];
  for (let d = dir; ; ) {
    dirs.push(d);
    if (d === '' || d === '.') return dirs;
    const parent = posix.dirname(d);
    d = parent === '.' ? '' : parent;
  }
}

/** The nearest folder at or above `dir` (workspace-relative) that holds a go.mod, as `hasGoMod` says. */
export function goModuleRootOf(dir: string, hasGoMod: (dir: string) => boolean): string | undefined {
  return ancestorsOf(dir).find(hasGoMod);
}

/** goModuleRootOf on the file system of a workspace. */
export function findGoModuleRoot(workspaceRoot: string, dir: string): string | undefined {
  return goModuleRootOf(dir, (d) => existsSync(join(workspaceRoot, d, 'go.mod')));
}
