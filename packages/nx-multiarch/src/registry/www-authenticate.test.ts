import { parseWwwAuthenticate } from './www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('reads a registry Bearer challenge with quoted parameters', () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:linkerd/proxy:pull,push"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:linkerd/proxy:pull,push' } },
    ]);
  });

  it('reads Basic, unquoted values, escapes, and several challenges', () => {
    expect(parseWwwAuthenticate(['Basic realm="Registry \\"x\\""', 'Bearer realm=https://t/x, error=insufficient_scope'])).toEqual([
      { scheme: 'basic', params: { realm: 'Registry "x"' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', error: 'insufficient_scope' } },
    ]);
    expect(parseWwwAuthenticate('Basic realm="a", Bearer realm="b"')).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b' } },
    ]);
  });

  it('gives nothing for no header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });
});
