import { MultiarchError } from '../errors';

/**
 * Docker's word processing for the instructions where Docker substitutes
 * variables (FROM, COPY, ADD, ENV, LABEL, ARG defaults, EXPOSE, USER,
 * WORKDIR, VOLUME, STOPSIGNAL): quotes are removed, the escape character
 * escapes, and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`,
 * `${VAR:+word}`, `${VAR+word}`, `${VAR:?message}`, `${VAR?message}` expand.
 * Single quotes keep everything literal; inside double quotes the escape
 * character only escapes `"`, `$` and itself, as in Docker's shell lexer.
 */

/** Looks a variable up; undefined means "not set" (unlike the empty string). */
export type VariableLookup = (name: string) => string | undefined;

const NAME_CHAR = /[A-Za-z0-9_]/;

class WordLexer {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly lookup: VariableLookup,
    private readonly escape: string,
  ) {}

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private next(): string | undefined {
    return this.text[this.pos++];
  }

  /**
   * Reads up to (not including) one of `stops` outside quotes, or to the end.
   * When splitting, unquoted expansions are split too, as Docker does.
   */
  processUntil(stops: string, splitOnSpace: boolean): string[] {
    const words: string[] = [];
    let current = '';
    // A word made only of quotes ("") is still a word; track that it started.
    let started = false;
    const append = (text: string) => {
      current += text;
      started = true;
    };
    const endWord = () => {
      if (started) words.push(current);
      current = '';
      started = false;
    };
    while (this.pos < this.text.length) {
      const ch = this.peek() as string;
      if (stops.includes(ch)) break;
      this.pos++;
      if (splitOnSpace && /\s/.test(ch)) {
        endWord();
      } else if (ch === this.escape) {
        const escaped = this.next();
        // A trailing escape character stays itself, as Docker leaves it.
        append(escaped === undefined ? ch : escaped);
      } else if (ch === "'") {
        append(this.singleQuoted());
      } else if (ch === '"') {
        append(this.doubleQuoted());
      } else if (ch === '$') {
        const value = this.dollar();
        if (!splitOnSpace) {
          append(value);
        } else {
          value.split(/\s+/).forEach((piece, i) => {
            if (i > 0) endWord();
            if (piece !== '') append(piece);
          });
        }
      } else {
        append(ch);
      }
    }
    if (splitOnSpace) endWord();
    else words.push(current);
    return words;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos);
    if (end < 0) throw new MultiarchError(`Unterminated single quote in: ${this.text}`, "Close the quote with '.");
    const value = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return value;
  }

  private doubleQuoted(): string {
    let value = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new MultiarchError(`Unterminated double quote in: ${this.text}`, 'Close the quote with ".');
      if (ch === '"') return value;
      if (ch === this.escape) {
        const following = this.peek();
        if (following === '"' || following === '$' || following === this.escape) {
          value += following;
          this.pos++;
        } else {
          value += ch;
        }
      } else if (ch === '$') {
        value += this.dollar();
      } else {
        value += ch;
      }
    }
  }

  /** After a `$`: a variable, a braced expression, or a literal dollar. */
  private dollar(): string {
    const ch = this.peek();
    if (ch === '{') {
      this.pos++;
      return this.braced();
    }
    if (ch !== undefined && NAME_CHAR.test(ch)) {
      let name = '';
      while (this.peek() !== undefined && NAME_CHAR.test(this.peek() as string)) name += this.next();
      return this.lookup(name) ?? '';
    }
    return '$';
  }

  private braced(): string {
    let name = '';
    while (this.peek() !== undefined && NAME_CHAR.test(this.peek() as string)) name += this.next();
    if (name === '') throw new MultiarchError(`Bad substitution (no variable name after \${) in: ${this.text}`, 'Write ${NAME}.');
    const value = this.lookup(name);
    const ch = this.next();
    if (ch === '}') return value ?? '';
    if (ch === undefined) throw new MultiarchError(`Missing } in: ${this.text}`, 'Close the ${...} expression.');
    let colon = false;
    let operator = ch;
    if (ch === ':') {
      colon = true;
      operator = this.next() ?? '';
    }
    if (!['-', '+', '?'].includes(operator)) {
      throw new MultiarchError(
        `Unsupported substitution \${${name}${colon ? ':' : ''}${operator}...} in: ${this.text}`,
        'Use ${VAR}, ${VAR:-default}, ${VAR:+alternative} or ${VAR:?message}.',
      );
    }
    // The word is itself processed (quotes, nested expansions) up to the closing brace.
    const word = this.processUntil('}', false)[0] ?? '';
    if (this.next() !== '}') throw new MultiarchError(`Missing } in: ${this.text}`, 'Close the ${...} expression.');
    const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
    switch (operator) {
      case '-':
        return isSet ? (value as string) : word;
      case '+':
        return isSet ? word : '';
      default:
        if (!isSet) {
          throw new MultiarchError(`${name}: ${word || 'is not set'}`, `Pass a value for ${name} (buildArgs or ARG default).`);
        }
        return value as string;
    }
  }
}

/** Processes one word (quotes, escapes, variables), keeping white space. */
export function processWord(word: string, lookup: VariableLookup, escape = '\\'): string {
  return new WordLexer(word, lookup, escape).processUntil('', false)[0] ?? '';
}

/** Processes text into words split at unquoted white space (EXPOSE, VOLUME, shell-form COPY). */
export function processWords(text: string, lookup: VariableLookup, escape = '\\'): string[] {
  return new WordLexer(text, lookup, escape).processUntil('', true);
}

/** A lookup over several maps, first match wins (ENV shadows ARG, as in Docker). */
export function chainLookup(...scopes: ReadonlyArray<ReadonlyMap<string, string>>): VariableLookup {
  return (name) => {
    for (const scope of scopes) {
      const value = scope.get(name);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
