/**
 * Path patterns as Docker matches them in COPY sources and .dockerignore:
 * Go's filepath.Match (`*` and `?` stop at `/`, `[...]` classes, `\` escapes)
 * plus `**` for any number of folders. Paths are relative POSIX paths.
 */

const GLOB_CHARS = /[*?[\\]/;

export function hasGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

function escapeRegExp(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/** Compiles a pattern to a RegExp over whole paths. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` matches everything below.
        i += 2;
        if (pattern[i] === '/') {
          source += '(?:.*/)?';
          i++;
        } else {
          source += '.*';
        }
        continue;
      }
      source += '[^/]*';
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += escapeRegExp(pattern[i]);
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
      } else {
        let body = pattern.slice(i + 1, end);
        // Go writes negation as [^...]; some write [!...]: take both.
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body.replace(/\\(.)/g, '\\$1').replace(/\//g, '')}]`;
        i = end;
      }
    } else {
      source += escapeRegExp(ch);
    }
    i++;
  }
  return new RegExp(`^${source}$`);
}

/** The folders of a pattern before its first glob character (`bin/arm/*` -> `bin/arm`). */
export function staticPrefix(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (hasGlob(part)) break;
    fixed.push(part);
  }
  return fixed.length === parts.length ? fixed.slice(0, -1).join('/') : fixed.join('/');
}
