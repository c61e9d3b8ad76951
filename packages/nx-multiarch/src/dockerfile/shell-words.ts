/**
 * Just enough of the POSIX shell to read the RUN lines of build stages: a
 * command line split into simple commands (on `&&`, `;`, `||`, `|`,
 * newlines), `case WORD in pattern) ... ;; esac` blocks, and words expanded
 * with the variables known at that point. Anything the plugin cannot read for
 * sure (command substitution, a `${...}` form it does not know) is reported
 * as dynamic, never guessed, so the caller can refuse with the line.
 */

export type ShellToken = { kind: 'word'; raw: string } | { kind: 'op'; op: string };

const OPERATORS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '\n'];

/** Splits a RUN command into raw words (quotes kept) and operators; `#` at a word start comments to the end of the line. */
export interface TokenizeOptions {
  /**
   * Drop redirections (`>&2`, `2>/dev/null`) with their targets: right for a
   * build stage's compile steps, where they change no output the plugin
   * models; wrong where a redirect would write a file of the image.
   */
  dropRedirections?: boolean;
}

export function tokenizeShell(text: string, options: TokenizeOptions = {}): ShellToken[] {
  const tokens: ShellToken[] = [];
  let i = 0;
  let word = '';
  let inWord = false;
  const flush = () => {
    if (inWord) tokens.push({ kind: 'word', raw: word });
    word = '';
    inWord = false;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (!inWord && ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      flush();
      i++;
      continue;
    }
    if (options.dropRedirections && (ch === '>' || ch === '<')) {
      // A redirection (`>&2`, `2>/dev/null`, `>> log`) and its target, dropped.
      if (/^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else {
        flush();
      }
      i++;
      if (text[i] === '>' || text[i] === '&' || text[i] === '|') i++;
      while (text[i] === ' ' || text[i] === '\t') i++;
      while (i < text.length && !/[\s;&|()]/.test(text[i])) i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    // `(` and `)` inside a word that opened `$(` or `${` belong to the word.
    if (op && !(inWord && (op === '(' || op === ')') && /\$\(?[^)]*$/.test(word) && word.includes('$('))) {
      flush();
      tokens.push({ kind: 'op', op });
      i += op.length;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end + 1;
      word += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      word += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '\\') {
      word += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i);
      const stop = end < 0 ? text.length : end + 1;
      word += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '$' && text[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')' && --depth === 0) break;
      }
      word += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    word += ch;
    i++;
  }
  flush();
  return tokens;
}

export type ShellLookup = (name: string) => string | undefined;

export interface ExpandedWord {
  value: string;
  /** The word's value depends on something the plugin does not evaluate (`$(...)`, backticks, an unknown `${...}` form). */
  dynamic: boolean;
}

function expandParameter(body: string, lookup: ShellLookup): { value: string; dynamic: boolean } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+=?])(.*)|(##?|%%?)(.*))?$/s.exec(body);
  if (!match) return { value: '', dynamic: true };
  const [, name, defaultOp, word, trimOp, pattern] = match;
  const value = lookup(name);
  if (defaultOp !== undefined) {
    const unset = defaultOp.startsWith(':') ? !value : value === undefined;
    const op = defaultOp.slice(-1);
    if (op === '-' || op === '=') return { value: unset ? word : (value ?? ''), dynamic: false };
    if (op === '+') return { value: unset ? '' : word, dynamic: false };
    return { value: value ?? '', dynamic: unset };
  }
  if (trimOp !== undefined) {
    // Only literal patterns: a glob in them would need the shell's matcher.
    if (/[*?[]/.test(pattern)) return { value: '', dynamic: true };
    const v = value ?? '';
    if (trimOp.startsWith('#')) return { value: v.startsWith(pattern) ? v.slice(pattern.length) : v, dynamic: false };
    return { value: v.endsWith(pattern) ? v.slice(0, v.length - pattern.length) : v, dynamic: false };
  }
  return { value: value ?? '', dynamic: false };
}

/** Quote removal and parameter expansion of one raw word, as the shell would (without field splitting or globbing). */
export function expandShellWord(raw: string, lookup: ShellLookup): ExpandedWord {
  let value = '';
  let dynamic = false;
  let i = 0;
  let quoted = false;
  const dollar = (): void => {
    const next = raw[i + 1];
    if (next === '{') {
      const end = raw.indexOf('}', i);
      const part = expandParameter(raw.slice(i + 2, end < 0 ? raw.length : end), lookup);
      value += part.value;
      dynamic ||= part.dynamic;
      i = end < 0 ? raw.length : end + 1;
    } else if (next === '(') {
      dynamic = true;
      const end = raw.indexOf(')', i);
      i = end < 0 ? raw.length : end + 1;
    } else if (next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = i + 1;
      while (j < raw.length && /[A-Za-z0-9_]/.test(raw[j])) j++;
      value += lookup(raw.slice(i + 1, j)) ?? '';
      i = j;
    } else if (next !== undefined && /[0-9@*#?$!-]/.test(next)) {
      dynamic = true;
      i += 2;
    } else {
      value += '$';
      i++;
    }
  };
  while (i < raw.length) {
    const ch = raw[i];
    if (ch === "'" && !quoted) {
      const end = raw.indexOf("'", i + 1);
      value += raw.slice(i + 1, end < 0 ? raw.length : end);
      i = end < 0 ? raw.length : end + 1;
    } else if (ch === '"') {
      quoted = !quoted;
      i++;
    } else if (ch === '\\') {
      const next = raw[i + 1] ?? '';
      value += quoted && !'"$`\\'.includes(next) ? `\\${next}` : next;
      i += 2;
    } else if (ch === '`') {
      dynamic = true;
      const end = raw.indexOf('`', i + 1);
      i = end < 0 ? raw.length : end + 1;
    } else if (ch === '$') {
      dollar();
    } else {
      value += ch;
      i++;
    }
  }
  return { value, dynamic };
}

/** `case` arms: the patterns of each arm and the tokens of its body. */
export interface CaseArm {
  patterns: string[];
  body: ShellToken[];
}

export interface CaseBlock {
  subject: string;
  arms: CaseArm[];
  /** Index of the token after `esac`. */
  end: number;
}

/** Reads `case WORD in p1|p2) ... ;; ... esac` starting at the `case` token; undefined when it is not that shape. */
export function readCase(tokens: readonly ShellToken[], start: number): CaseBlock | undefined {
  const subject = tokens[start + 1];
  const inWord = tokens[start + 2];
  if (subject?.kind !== 'word' || inWord?.kind !== 'word' || inWord.raw !== 'in') return undefined;
  const arms: CaseArm[] = [];
  let i = start + 3;
  const skipNewlines = () => {
    while (tokens[i]?.kind === 'op' && (tokens[i] as { op: string }).op === '\n') i++;
  };
  for (;;) {
    skipNewlines();
    const t = tokens[i];
    if (!t) return undefined;
    if (t.kind === 'word' && t.raw === 'esac') return { subject: subject.raw, arms, end: i + 1 };
    if (t.kind === 'op' && t.op === '(') i++;
    const patterns: string[] = [];
    for (;;) {
      const p = tokens[i];
      if (p?.kind !== 'word') return undefined;
      patterns.push(p.raw);
      i++;
      const sep = tokens[i];
      if (sep?.kind === 'op' && sep.op === '|') {
        i++;
        continue;
      }
      if (sep?.kind === 'op' && sep.op === ')') {
        i++;
        break;
      }
      return undefined;
    }
    const body: ShellToken[] = [];
    for (;;) {
      const b = tokens[i];
      if (!b) return undefined;
      if (b.kind === 'op' && b.op === ';;') {
        i++;
        break;
      }
      if (b.kind === 'word' && b.raw === 'esac') break;
      body.push(b);
      i++;
    }
    arms.push({ patterns, body });
  }
}

/** Shell glob match for case patterns (`*`, `?`, literal text). */
export function casePatternMatches(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}
