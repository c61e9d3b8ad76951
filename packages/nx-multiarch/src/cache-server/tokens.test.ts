import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { bearerToken, TokenSet } from './tokens';

const RW = 'rw-0123456789abcdef0123';
const RO = 'ro-0123456789abcdef0123';

describe('TokenSet', () => {
  it('tells read-write, read-only and unknown tokens apart', () => {
    const set = TokenSet.fromTokens([RW], [RO]);
    expect(set.accessOf(RW)).toBe('read-write');
    expect(set.accessOf(RO)).toBe('read-only');
    expect(set.accessOf(`${RW}x`)).toBeUndefined();
    expect(set.accessOf('')).toBeUndefined();
  });

  it('loads tokens from environment variables and files (one per line, # comments)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nxm-tokens-'));
    try {
      const file = join(dir, 'ro.tokens');
      writeFileSync(file, `# pull requests\n${RO}\n\nro-second-token-0123456789\n`);
      const set = TokenSet.load({ readWriteEnv: 'CACHE_RW', readOnlyFile: file }, { CACHE_RW: `${RW}\n` });
      expect(set.counts).toEqual({ readWrite: 1, readOnly: 2 });
      expect(set.accessOf(RW)).toBe('read-write');
      expect(set.accessOf('ro-second-token-0123456789')).toBe('read-only');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without tokens, with short tokens, shared tokens or an unset variable — and never echoes a token', () => {
    const attempts: Array<() => unknown> = [
      () => TokenSet.fromTokens([], []),
      () => TokenSet.fromTokens(['short-token'], []),
      () => TokenSet.fromTokens([RW], [RW]),
      () => TokenSet.fromTokens(['has space in the token 0123'], []),
      () => TokenSet.load({ readWriteEnv: 'NOT_SET_ANYWHERE' }, {}),
      () => TokenSet.load({ readOnlyFile: '/nonexistent/ro.tokens' }, {}),
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MultiarchError);
      const error = caught as MultiarchError;
      expect(error.hint).toBeTruthy();
      expect(`${error.message} ${error.hint}`).not.toContain(RW);
      expect(`${error.message} ${error.hint}`).not.toContain('short-token');
    }
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header and nothing else', () => {
    expect(bearerToken(`Bearer ${RW}`)).toBe(RW);
    expect(bearerToken(`bearer ${RW}`)).toBe(RW);
    expect(bearerToken(`Basic ${RW}`)).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
