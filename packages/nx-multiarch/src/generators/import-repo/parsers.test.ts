import { dockerfileSuffix } from './dockerfiles';
import { goBinaryName, goPackageName } from './go-packages';
import { globToRegExp } from '../../util/path-glob';
import { parseToml, tomlString, tomlStrings, TomlSyntaxError } from './toml';

describe('parseToml (the Cargo.toml subset import-repo reads)', () => {
  it('reads tables, arrays of tables, multi-line arrays, dotted and quoted keys, and comments', () => {
    const doc = parseToml(`
# a workspace with a root package
[workspace]
members = [
  "linkerd/*",   # every crate under linkerd
  'linkerd2-proxy',
]
exclude = ["linkerd/fuzz"]

[package]
name = "linkerd2-proxy" # trailing comment
version.workspace = true
autobins = false
description = "a # is not a comment \\"inside\\" a string"

[[bin]]
name = "proxy"
path = "src/main.rs"

[[bin]]
name = "probe"

[dependencies]
tokio = { version = "1", features = ["full"] }
`);
    expect(tomlStrings(doc.tables.get('workspace'), 'members')).toEqual(['linkerd/*', 'linkerd2-proxy']);
    expect(tomlStrings(doc.tables.get('workspace'), 'exclude')).toEqual(['linkerd/fuzz']);
    const pkg = doc.tables.get('package');
    expect(tomlString(pkg, 'name')).toBe('linkerd2-proxy');
    expect(pkg?.['version.workspace']).toBe(true);
    expect(pkg?.autobins).toBe(false);
    expect(tomlString(pkg, 'description')).toBe('a # is not a comment "inside" a string');
    expect(doc.arrays.get('bin')?.map((b) => tomlString(b, 'name'))).toEqual(['proxy', 'probe']);
    expect(doc.tables.get('dependencies')?.tokio).toEqual({ raw: '{ version = "1", features = ["full"] }' });
  });

  it('names the line it cannot read', () => {
    expect(() => parseToml('[package]\nname = "x"\nthis is not toml\n')).toThrow(new TomlSyntaxError('line 3: expected key = value'));
    expect(() => parseToml('[package]\nname = "unterminated\n')).toThrow(/line 2: unterminated string/);
  });
});

describe('Go source facts', () => {
  it('reads the package clause after comments and build constraints', () => {
    expect(goPackageName('// Copyright\n\n// Package main runs.\npackage main\n\nfunc main() {}\n')).toBe('main');
    expect(goPackageName('//go:build linux\n\npackage server\n')).toBe('server');
  });

  it('leaves out files excluded from every build', () => {
    expect(goPackageName('//go:build ignore\n\npackage main\n')).toBeUndefined();
    expect(goPackageName('// +build ignore\n\npackage main\n')).toBeUndefined();
  });

  it('names binaries as go build does, skipping a major-version suffix', () => {
    expect(goBinaryName('example.com/linkerd2/controller')).toBe('controller');
    expect(goBinaryName('example.com/tool/v2')).toBe('tool');
    expect(goBinaryName('example.com/tool/v1')).toBe('v1');
    expect(goBinaryName('hello')).toBe('hello');
  });
});

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
