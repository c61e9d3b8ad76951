import { formatReference, parseReference, parseRegistryTarget, repositoryName, validateRepository, validateTag } from './reference';

describe('parseReference', () => {
  it('reads host, port, path, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`127.0.0.1:5000/linkerd/proxy:2.14.0@${digest}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'linkerd/proxy',
      tag: '2.14.0',
      digest,
    });
    expect(parseReference('ghcr.io/linkerd/controller')).toEqual({ registry: 'ghcr.io', repository: 'linkerd/controller' });
    expect(parseReference('localhost/x:latest')).toEqual({ registry: 'localhost', repository: 'x', tag: 'latest' });
    expect(parseReference('[::1]:5000/a/b:c')).toEqual({ registry: '[::1]:5000', repository: 'a/b', tag: 'c' });
  });

  it('round-trips through formatReference', () => {
    for (const text of ['r.example.com/a/b:1', `127.0.0.1:5000/x@sha256:${'0'.repeat(64)}`, 'localhost:1/a']) {
      expect(formatReference(parseReference(text))).toBe(text);
    }
  });

  it.each([
    ['', /it is empty/],
    ['proxy:1.0', /names no registry host/],
    ['linkerd/proxy:1.0', /"linkerd" is not a registry host/],
    ['r.io/Linkerd/proxy', /"Linkerd" is not a valid path component/],
    ['r.io/a//b', /"" is not a valid path component/],
    ['r.io/a:b:c', /"a:b" is not a valid path component/],
    ['r.io/a:-x', /Invalid tag "-x"/],
    ['r.io/a@sha256:abc', /"sha256:abc" is not a sha256 digest/],
    ['r.io:99999/a', /Invalid port/],
  ])('rejects %j', (text, why) => {
    expect(() => parseReference(text)).toThrow(why);
    expect(() => parseReference(text)).toThrow(/Malformed image reference/);
  });
});

describe('validateTag', () => {
  it('accepts up to 128 characters of the allowed set', () => {
    expect(validateTag('v1.2.3_rc-1')).toBe('v1.2.3_rc-1');
    expect(validateTag('_'.repeat(128))).toHaveLength(128);
  });
  it('rejects a tag over 128 characters, naming the limit', () => {
    expect(() => validateTag('a'.repeat(129))).toThrow(/129 characters long; registries accept at most 128/);
  });
  it.each(['.hidden', '-x', 'a/b', 'a+b', ''])('rejects %j', (tag) => {
    expect(() => validateTag(tag)).toThrow(/tag/i);
  });
});

describe('repository names and registry targets', () => {
  it('validates path components', () => {
    expect(validateRepository('linkerd/proxy-init')).toBe('linkerd/proxy-init');
    expect(validateRepository('a__b/c.d/e-f--g')).toBe('a__b/c.d/e-f--g');
    expect(() => validateRepository('a/_b')).toThrow(/"_b"/);
    expect(() => validateRepository('x'.repeat(256))).toThrow(/256 characters/);
  });

  it('splits host[:port][/prefix] and joins the prefix to names', () => {
    expect(parseRegistryTarget('127.0.0.1:5000')).toEqual({ registry: '127.0.0.1:5000' });
    const target = parseRegistryTarget('ghcr.io/linkerd/');
    expect(target).toEqual({ registry: 'ghcr.io', prefix: 'linkerd' });
    expect(repositoryName(target, 'proxy')).toBe('linkerd/proxy');
    expect(() => parseRegistryTarget('  ')).toThrow(/No registry given/);
    expect(() => parseRegistryTarget('reg istry')).toThrow(/Invalid registry host/);
  });
});
