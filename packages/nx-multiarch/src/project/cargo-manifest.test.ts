import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { parseCargoManifest } from './cargo-manifest';
import { projectVersion } from './version';

describe('parseCargoManifest', () => {
  it('reads the keys the plugin uses from a workspace manifest with a root package', () => {
    const manifest = parseCargoManifest(`
# a workspace with a root package
[workspace]
members = [
  "linkerd/*",   # every crate under linkerd
  'linkerd2-proxy',
]
exclude = ["linkerd/fuzz"]

[package]
name = "linkerd2-proxy" # trailing comment
version = "0.1.5"
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
    expect(manifest).toEqual({
      workspace: { members: ['linkerd/*', 'linkerd2-proxy'], exclude: ['linkerd/fuzz'] },
      package: { name: 'linkerd2-proxy', version: '0.1.5', autobins: false },
      bins: [{ name: 'proxy', path: 'src/main.rs' }, { name: 'probe' }],
    });
  });

  // Every construct below is valid TOML that the old hand-written reader refused or misread.
  it('reads valid TOML the old reader refused: multi-line strings, inline tables over keys, dotted tables, escapes', () => {
    const manifest = parseCargoManifest(`
[package]
name = "tricky"
version.workspace = true
description = """
A crate whose description spans lines,
with [brackets] = "and quotes" and a # that is no comment.
"""
readme = '''
literal
'''
keywords = ["a", 'b'] # two kinds of strings
metadata.docs.rs = { all-features = true, rustdoc-args = ["--cfg", "docsrs"] }
"quoted key" = "\\u00e9t\\u00e9"

[package.metadata.release]
pre-release-replacements = [
  { file = "CHANGELOG.md", search = "Unreleased", replace = "{{version}}" },
]

[[bin]]
name = "tricky"
path = "src/bin/tricky.rs"

[target.'cfg(unix)'.dependencies]
libc = "0.2"
`);
    expect(manifest.package).toEqual({ name: 'tricky', version: undefined, autobins: true });
    expect(manifest.bins).toEqual([{ name: 'tricky', path: 'src/bin/tricky.rs' }]);
    expect(manifest.workspace).toBeUndefined();
  });

  it('names the file, line and column of invalid TOML, and the fix', () => {
    let caught: unknown;
    try {
      parseCargoManifest('[package]\nname = \n', 'crates/broken/Cargo.toml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MultiarchError);
    expect((caught as MultiarchError).message).toMatch(/^crates\/broken\/Cargo\.toml: line 2, column \d+: .*\(not valid TOML\)$/);
    expect((caught as MultiarchError).hint).toContain('cargo metadata --manifest-path crates/broken/Cargo.toml');
  });
});

describe('projectVersion (the one rule for labels and tags)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-version-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('takes the option, else package.json, else Cargo.toml [package] version; 0.0.0 and empty mean none', async () => {
    expect(await projectVersion(dir)).toBeUndefined();
    await writeFile(join(dir, 'Cargo.toml'), '[workspace]\nversion = "9"\n[package]\nname = "p"\nversion = "0.1.5"\ndescription = """\nmulti\nline\n"""\n[dependencies]\nversion = "1"\n');
    expect(await projectVersion(dir)).toBe('0.1.5');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ version: '0.0.0' }));
    expect(await projectVersion(dir)).toBe('0.1.5');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ version: '4.5.6+meta' }));
    expect(await projectVersion(dir)).toBe('4.5.6+meta');
    expect(await projectVersion(dir, '7.0.0')).toBe('7.0.0');
    expect(await projectVersion(dir, '')).toBe('4.5.6+meta');
  });

  it('has no version for an inherited Cargo version (version.workspace = true)', async () => {
    await writeFile(join(dir, 'Cargo.toml'), '[package]\nname = "p"\nversion.workspace = true\n');
    expect(await projectVersion(dir)).toBeUndefined();
  });
});
