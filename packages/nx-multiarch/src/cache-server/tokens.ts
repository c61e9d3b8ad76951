import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MultiarchError } from '../errors';

/**
 * The two kinds of bearer token the server knows. Read-write tokens belong to
 * trusted builds only (the main branch, release jobs); everything that runs
 * code a stranger wrote — pull requests above all — gets a read-only token.
 * Tokens are secrets: they are compared in constant time, and no message, log
 * line or error ever contains one.
 */
export type Access = 'read-write' | 'read-only';

/** Short tokens are guessable; refuse them at start rather than run exposed. */
export const MIN_TOKEN_LENGTH = 16;

/** Where a kind of token comes from; a source may give several (rotation). */
export interface TokenSources {
  readWriteEnv?: string;
  readWriteFile?: string;
  readOnlyEnv?: string;
  readOnlyFile?: string;
}

interface KnownToken {
  /** sha256 of the token: fixed length, so the comparison time says nothing. */
  fingerprint: Buffer;
  access: Access;
}

export class TokenSet {
  private constructor(private readonly tokens: readonly KnownToken[]) {}

  static fromTokens(readWrite: readonly string[], readOnly: readonly string[]): TokenSet {
    for (const token of [...readWrite, ...readOnly]) checkTokenShape(token);
    if (readWrite.length + readOnly.length === 0) {
      throw new MultiarchError(
        'The cache server has no token: every request would be refused.',
        'Give a read-write token (--read-write-token-env NAME or --read-write-token-file PATH) for trusted builds and a read-only one for pull requests.',
      );
    }
    const readOnlySet = new Set(readOnly);
    if (readWrite.some((token) => readOnlySet.has(token))) {
      throw new MultiarchError(
        'The same token is given as read-write and as read-only.',
        'Use different tokens: a pull request holding the read-only token must not be able to write.',
      );
    }
    return new TokenSet([
      ...readWrite.map((token) => ({ fingerprint: fingerprint(token), access: 'read-write' as const })),
      ...readOnly.map((token) => ({ fingerprint: fingerprint(token), access: 'read-only' as const })),
    ]);
  }

  static load(sources: TokenSources, env: NodeJS.ProcessEnv = process.env): TokenSet {
    const readWrite = [
      ...tokensFromEnv(sources.readWriteEnv, env, '--read-write-token-env'),
      ...tokensFromFile(sources.readWriteFile, '--read-write-token-file'),
    ];
    const readOnly = [
      ...tokensFromEnv(sources.readOnlyEnv, env, '--read-only-token-env'),
      ...tokensFromFile(sources.readOnlyFile, '--read-only-token-file'),
    ];
    return TokenSet.fromTokens(readWrite, readOnly);
  }

  get counts(): { readWrite: number; readOnly: number } {
    return {
      readWrite: this.tokens.filter((t) => t.access === 'read-write').length,
      readOnly: this.tokens.filter((t) => t.access === 'read-only').length,
    };
  }

  /** The access a presented token grants, or undefined for an unknown token. */
  accessOf(presented: string): Access | undefined {
    const candidate = fingerprint(presented);
    let found: Access | undefined;
    // Visit every token, match or not, so timing does not tell which one matched.
    for (const token of this.tokens) {
      if (timingSafeEqual(token.fingerprint, candidate)) found = found ?? token.access;
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

function fingerprint(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function checkTokenShape(token: string): void {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new MultiarchError(
      `A cache token is shorter than ${MIN_TOKEN_LENGTH} characters.`,
      'Use a long random token, e.g. the output of `openssl rand -hex 32`.',
    );
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new MultiarchError(
      'A cache token holds spaces or characters outside printable ASCII; an HTTP header cannot carry it.',
      'Use a token made of letters, digits and punctuation, e.g. the output of `openssl rand -hex 32`.',
    );
  }
}

function tokensFromEnv(name: string | undefined, env: NodeJS.ProcessEnv, option: string): string[] {
  if (name === undefined) return [];
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new MultiarchError(`${option} names the environment variable ${name}, but it is not set or empty.`, `Export ${name} with the token before starting the server.`);
  }
  return [value.trim()];
}

/** One token per line; blank lines and lines starting with `#` are skipped. */
function tokensFromFile(path: string | undefined, option: string): string[] {
  if (path === undefined) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MultiarchError(`${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Check the path and that the server may read it.');
  }
  const tokens = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (tokens.length === 0) {
    throw new MultiarchError(`${option}: ${path} holds no token.`, 'Write one token per line into the file.');
  }
  return tokens;
}
