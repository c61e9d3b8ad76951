import { parseCacheKey, routeOf } from './cache-key';

describe('cache keys', () => {
  it('accepts Nx task hashes (decimal strings of up to ~20 digits)', () => {
    expect(parseCacheKey('12170264597209000951')).toBe('12170264597209000951');
    expect(parseCacheKey('0')).toBe('0');
  });

  it('refuses anything that could leave a folder or break an OCI tag', () => {
    for (const bad of ['', '..', '../x', 'a/b', '.hidden', '-x', 'a.b', 'a b', 'x'.repeat(129), 'é']) {
      expect(parseCacheKey(bad)).toBeUndefined();
    }
  });

  it('routes /v1/cache/{hash} and nothing else', () => {
    expect(routeOf('/v1/cache/123')).toEqual({ kind: 'entry', key: '123' });
    expect(routeOf('/v1/cache/..%2F..%2Fetc')).toEqual({ kind: 'bad-key' });
    expect(routeOf('/v1/cache/')).toEqual({ kind: 'bad-key' });
    expect(routeOf('/v2/cache/123')).toEqual({ kind: 'other' });
    expect(routeOf('/')).toEqual({ kind: 'other' });
  });
});
