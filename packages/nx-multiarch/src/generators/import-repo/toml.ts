/**
 * The part of TOML that Cargo manifests use for what import-repo reads:
 * `[table]` and `[[array.of.tables]]` headers, `key = value` with bare,
 * quoted or dotted keys, strings (basic and literal), booleans, numbers and
 * arrays of those (across lines). Inline tables are kept as raw text: import-repo
 * needs nothing inside them. Not a general TOML parser, and not meant to be.
 */
export type TomlValue = string | boolean | number | TomlValue[] | { raw: string };

export type TomlTable = Record<string, TomlValue>;

export interface TomlDocument {
  /** `[package]` → the keys under it; '' holds the keys before the first header. */
  tables: Map<string, TomlTable>;
  /** `[[bin]]` → one table per header. */
  arrays: Map<string, TomlTable[]>;
}

export class TomlSyntaxError extends Error {}

/** Drops a `#` comment that is not inside a string. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** Brackets still open at the end of the text (outside strings): a value continues on the next line. */
function openBrackets(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth;
}

function unquoteKey(part: string): string {
  const p = part.trim();
  if ((p.startsWith('"') && p.endsWith('"')) || (p.startsWith("'") && p.endsWith("'"))) return p.slice(1, -1);
  return p;
}

/** `a."b.c".d` → ['a', 'b.c', 'd'] */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of key) {
    if (quote) {
      current += c;
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === '.') {
      parts.push(unquoteKey(current));
      current = '';
    } else current += c;
  }
  parts.push(unquoteKey(current));
  return parts;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f' };

/** Reads one value at `text[start]`; returns it and the index after it. */
function readValue(text: string, start: number): [TomlValue, number] {
  let i = start;
  while (/\s/.test(text[i] ?? '')) i++;
  const c = text[i];
  if (c === '"') {
    let out = '';
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\') {
        const e = text[++i];
        out += ESCAPES[e] ?? e;
      } else out += text[i];
    }
    if (text[i] !== '"') throw new TomlSyntaxError('unterminated string');
    return [out, i + 1];
  }
  if (c === "'") {
    const end = text.indexOf("'", i + 1);
    if (end < 0) throw new TomlSyntaxError('unterminated string');
    return [text.slice(i + 1, end), end + 1];
  }
  if (c === '[') {
    const items: TomlValue[] = [];
    i++;
    for (;;) {
      while (/[\s,]/.test(text[i] ?? '')) i++;
      if (i >= text.length) throw new TomlSyntaxError('unterminated array');
      if (text[i] === ']') return [items, i + 1];
      const [item, next] = readValue(text, i);
      items.push(item);
      i = next;
    }
  }
  if (c === '{') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) return [{ raw: text.slice(i, j + 1) }, j + 1];
    }
    throw new TomlSyntaxError('unterminated inline table');
  }
  const bare = /^[^\s,\]}]+/.exec(text.slice(i))?.[0];
  if (!bare) throw new TomlSyntaxError(`no value at "${text.slice(i, i + 20)}"`);
  const end = i + bare.length;
  if (bare === 'true' || bare === 'false') return [bare === 'true', end];
  const n = Number(bare.replace(/_/g, ''));
  return [Number.isNaN(n) ? { raw: bare } : n, end];
}

/** Parses the text; a line it cannot read throws TomlSyntaxError naming the line. */
export function parseToml(text: string): TomlDocument {
  const doc: TomlDocument = { tables: new Map([['', {}]]), arrays: new Map() };
  let current: TomlTable = doc.tables.get('') as TomlTable;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNumber = n + 1;
    let line = stripComment(lines[n]).trim();
    if (line === '') continue;
    try {
      const arrayHeader = /^\[\[\s*(.+?)\s*\]\]$/.exec(line);
      if (arrayHeader) {
        const name = splitKey(arrayHeader[1]).join('.');
        const list = doc.arrays.get(name) ?? [];
        current = {};
        list.push(current);
        doc.arrays.set(name, list);
        continue;
      }
      const header = /^\[\s*(.+?)\s*\]$/.exec(line);
      if (header) {
        const name = splitKey(header[1]).join('.');
        current = doc.tables.get(name) ?? {};
        doc.tables.set(name, current);
        continue;
      }
      const eq = line.indexOf('=');
      if (eq <= 0) throw new TomlSyntaxError('expected key = value');
      // A value that opens brackets continues until they close.
      while (openBrackets(line.slice(eq + 1)) > 0 && n + 1 < lines.length) {
        line += '\n' + stripComment(lines[++n]);
      }
      const [value] = readValue(line, eq + 1);
      current[splitKey(line.slice(0, eq)).join('.')] = value;
    } catch (error) {
      if (error instanceof TomlSyntaxError) throw new TomlSyntaxError(`line ${lineNumber}: ${error.message}`);
      throw error;
    }
  }
  return doc;
}

export function tomlString(table: TomlTable | undefined, key: string): string | undefined {
  const v = table?.[key];
  return typeof v === 'string' ? v : undefined;
}

export function tomlStrings(table: TomlTable | undefined, key: string): string[] {
  const v = table?.[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
