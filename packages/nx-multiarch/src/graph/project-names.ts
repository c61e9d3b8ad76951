/**
 * Names for the projects inference names itself (folders without a
 * project.json or package.json name). A folder's own name is kept where it is
 * unique; folders that share one (every `cmd` of a repository with several
 * commands) are named by their path instead, parent by parent until each is
 * unique: `controller-cmd`, `tap-cmd`. Nx refuses two projects of one name
 * ("defined in multiple locations") before any generator can run, so this
 * must hold for any tree, including a repository dropped under vendor/.
 */
export interface NamedRoot {
  root: string;
  /** The name inference would give (the folder's or the crate's). */
  name: string;
}

function sanitise(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'workspace';
}

/** The name of `root` made of its last `depth` path segments, ending with `leaf` (the crate name for a crate). */
function pathName(root: string, leaf: string, depth: number): string {
  const parents = root.split('/').filter(Boolean).slice(0, -1);
  return sanitise([...parents.slice(Math.max(0, parents.length - depth + 1)), leaf].join('-'));
}

/**
 * Unique names for `inferred`, avoiding `declared` (names project.json files
 * give). Deterministic: the result depends only on the set of roots and names.
 */
export function uniqueProjectNames(inferred: readonly NamedRoot[], declared: ReadonlySet<string> = new Set()): Map<string, string> {
  const count = new Map<string, number>();
  for (const p of inferred) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  const names = new Map<string, string>();
  const taken = new Set(declared);
  // Unique names first, so a path-based name never takes a folder's own name.
  for (const p of inferred) {
    if (count.get(p.name) === 1 && !declared.has(p.name)) {
      names.set(p.root, p.name);
      taken.add(p.name);
    }
  }
  const clashing = inferred.filter((p) => !names.has(p.root)).sort((a, b) => a.root.localeCompare(b.root));
  for (let depth = 2; clashing.length > 0; depth++) {
    // Once every clashing root is named by its whole path, what still clashes is numbered.
    const final = clashing.every((p) => depth > p.root.split('/').length);
    const candidates = clashing.map((p) => ({ root: p.root, name: pathName(p.root, p.name, depth) }));
    const seen = new Map<string, number>();
    for (const c of candidates) seen.set(c.name, (seen.get(c.name) ?? 0) + 1);
    for (const c of candidates) {
      if (seen.get(c.name) === 1 && !taken.has(c.name)) names.set(c.root, c.name);
      else if (final) {
        let n = 2;
        while (taken.has(`${c.name}-${n}`)) n++;
        names.set(c.root, `${c.name}-${n}`);
      } else continue;
      taken.add(names.get(c.root) as string);
    }
    for (let i = clashing.length - 1; i >= 0; i--) if (names.has(clashing[i].root)) clashing.splice(i, 1);
  }
  return names;
}
