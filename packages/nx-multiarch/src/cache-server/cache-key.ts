/**
 * The `{hash}` of `/v1/cache/{hash}`. Nx task hashes are decimal strings of up
 * to about 20 digits; we accept a little more (letters, `_`, `-`) so a future
 * hash format still works, but never anything that could leave a folder or
 * break an OCI tag: no `/`, no `.`, at most 128 characters, and the first
 * character a letter or digit, as the OCI tag grammar `[\w][\w.-]{0,127}` wants.
 */
const CACHE_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const ROUTE_PREFIX = '/v1/cache/';

export type CacheKey = string & { readonly __cacheKey: unique symbol };

export function parseCacheKey(value: string): CacheKey | undefined {
  return CACHE_KEY_PATTERN.test(value) ? (value as CacheKey) : undefined;
}

/** What a request path names: a cache entry, a malformed entry name, or something else. */
export type CacheRoute = { kind: 'entry'; key: CacheKey } | { kind: 'bad-key' } | { kind: 'other' };

export function routeOf(pathname: string): CacheRoute {
  if (!pathname.startsWith(ROUTE_PREFIX)) return { kind: 'other' };
  const key = parseCacheKey(pathname.slice(ROUTE_PREFIX.length));
  return key ? { kind: 'entry', key } : { kind: 'bad-key' };
}
