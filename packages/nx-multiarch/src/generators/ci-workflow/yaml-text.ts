/**
 * Writes plain data as block-style YAML for a file people read and review:
 * two-space indents, block literals for multi-line strings, quotes only where
 * a plain scalar would read as something else. Enough for workflow files; not
 * a general YAML library.
 */
export type YamlValue = string | number | boolean | readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

/** Plain scalars YAML 1.1 or 1.2 would read as booleans, null or numbers. */
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$/i;

/**
 * A plain (unquoted) block scalar may not start with an indicator character,
 * contain ": " or " #", end with ":" or a space, or read as another type.
 * Everything else is written double-quoted, which is JSON's string syntax.
 */
function scalar(value: string): string {
  const plain =
    value !== '' &&
    !RESERVED.test(value) &&
    !/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(value) &&
    !/: | #|[:\s]$|[\n\t]/.test(value);
  return plain ? value : JSON.stringify(value);
}

/** `on` stays bare: GitHub reads the trigger key itself, and writes it bare in its own docs. */
function key(name: string): string {
  return name === 'on' || (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) && !RESERVED.test(name)) ? name : JSON.stringify(name);
}

function isMap(value: YamlValue): value is { readonly [key: string]: YamlValue | undefined } {
  return typeof value === 'object' && !Array.isArray(value);
}

function entries(map: { readonly [key: string]: YamlValue | undefined }): Array<[string, YamlValue]> {
  return Object.entries(map).filter((e): e is [string, YamlValue] => e[1] !== undefined);
}

/** The text after `key:` or `- `: inline for scalars and empty collections, else a new indented block. */
function after(value: YamlValue, indent: string): string {
  if (typeof value === 'number' || typeof value === 'boolean') return ` ${String(value)}`;
  if (typeof value === 'string') {
    if (!value.includes('\n')) return ` ${scalar(value)}`;
    const body = value.replace(/\n$/, '').split('\n').map((l) => (l === '' ? '' : `${indent}  ${l}`));
    return ` |${value.endsWith('\n') ? '' : '-'}\n${body.join('\n')}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []';
    // Short lists of simple words read best inline; anything else as a block list.
    if (value.every((v) => typeof v === 'number' || (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.\/*-]*$/.test(v) && !RESERVED.test(v)))) {
      return ` [${value.map(String).join(', ')}]`;
    }
    return `\n${block(value, indent + '  ')}`;
  }
  if (isMap(value) && entries(value).length === 0) return ' {}';
  return `\n${block(value, indent + '  ')}`;
}

function block(value: YamlValue, indent: string): string {
  if (Array.isArray(value)) {
    return value
      .map((item: YamlValue) => {
        if (isMap(item) && entries(item).length > 0) {
          // The first key sits on the dash line; the rest line up under it.
          const inner = block(item, indent + '  ');
          return `${indent}- ${inner.slice(indent.length + 2)}`;
        }
        return `${indent}-${after(item, indent)}`;
      })
      .join('\n');
  }
  if (isMap(value)) return entries(value).map(([k, v]) => `${indent}${key(k)}:${after(v, indent)}`).join('\n');
  return `${indent}${after(value, indent).trimStart()}`;
}

/** The document, with `comment` lines (if any) as a `#` header. */
export function toYaml(value: YamlValue, comment: readonly string[] = []): string {
  const header = comment.map((l) => (l === '' ? '#' : `# ${l}`)).join('\n');
  return `${header}${header ? '\n' : ''}${block(value, '')}\n`;
}
