/**
 * Path globs as Cargo's `members` and the `exclude` option write them: `*` and
 * `?` within one path segment, `**` across segments, `[abc]` classes.
 * Matched against POSIX paths without a leading `./`.
 */
export function globToRegExp(glob: string): RegExp {
  const text = glob.replace(/^\.\//, '').replace(/\/+$/, '');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '*' && text[i + 1] === '*') {
      // `a/**/b` matches a/b too; `**` alone matches everything.
      const slash = text[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = text.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${text.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function matchesAnyGlob(path: string, globs: readonly RegExp[]): boolean {
  return globs.some((g) => g.test(path));
}
