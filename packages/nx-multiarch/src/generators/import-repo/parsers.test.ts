import { dockerfileSuffix } from './dockerfiles';
import { globToRegExp } from '../../util/path-glob';

describe('Dockerfile names', () => {
  it.each([
    ['Dockerfile', ''],
    ['dockerfile', ''],
    ['Dockerfile.proxy', 'proxy'],
    ['Dockerfile-debug', 'debug'],
    ['web.Dockerfile', 'web'],
    ['Dockerfile.proxy.dockerignore', undefined],
    ['Dockerfile.', undefined],
    ['README.md', undefined],
  ])('%s → %j', (file, suffix) => {
    expect(dockerfileSuffix(file)).toBe(suffix);
  });
});

describe('globToRegExp', () => {
  it('matches Cargo member globs and exclude globs by path segment', () => {
    expect(globToRegExp('linkerd/*').test('linkerd/app')).toBe(true);
    expect(globToRegExp('linkerd/*').test('linkerd/app/core')).toBe(false);
    expect(globToRegExp('linkerd/**').test('linkerd/app/core')).toBe(true);
    expect(globToRegExp('**/testdata').test('a/b/testdata')).toBe(true);
    expect(globToRegExp('**/testdata').test('testdata')).toBe(true);
    expect(globToRegExp('./examples/').test('examples')).toBe(true);
    expect(globToRegExp('crate-[ab]').test('crate-b')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});
