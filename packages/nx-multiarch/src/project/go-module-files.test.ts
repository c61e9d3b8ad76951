import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mainPackageClosure } from './go-module-files';
import { goImports } from './go-source';

describe('goImports', () => {
  it('reads single imports and blocks, with aliases, and not what comments say', () => {
    const source = [
      '// Package main (see "fake/one")',
      'package main',
      '',
      'import "fmt"',
      'import alias "example.com/m/pkg/a"',
      'import (',
      '\t"os" // a comment (with parens)',
      '\t_ "example.com/m/pkg/b"',
      '\t/* "fake/two" ) */',
      '\t. "example.com/m/pkg/c"',
      '\tx `example.com/m/pkg/d`',
      ')',
      '',
      'var url = "http://example.com/m/pkg/e"',
    ].join('\n');
    expect(goImports(source).sort()).toEqual(['example.com/m/pkg/a', 'example.com/m/pkg/b', 'example.com/m/pkg/c', 'example.com/m/pkg/d', 'fmt', 'os']);
  });
});

describe('mainPackageClosure', () => {
  let root: string;
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nx-multiarch-go-closure-'));
    await write('mod/go.mod', 'module example.com/m\n\ngo 1.22\n');
    await write('mod/cmd/a/main.go', 'package main\n\nimport (\n\t"fmt"\n\t"example.com/m/pkg/x"\n)\n\nfunc main() { fmt.Println(x.X) }\n');
    await write('mod/cmd/b/main.go', 'package main\n\nimport "example.com/m/pkg/z"\n\nfunc main() { println(z.Z) }\n');
    await write('mod/pkg/x/x.go', 'package x\n\nimport (\n\t_ "embed"\n\t"example.com/m/pkg/y"\n)\n\n//go:embed x.txt\nvar X string\n\nvar _ = y.Y\n');
    // Only arm64 compiles this file; it still counts, whatever the arch.
    await write('mod/pkg/y/y_arm64.go', '//go:build arm64\n\npackage y\n\nimport "example.com/m/pkg/w"\n\nvar _ = w.W\n');
    await write('mod/pkg/y/y.go', 'package y\n\nconst Y = 1\n');
    await write('mod/pkg/y/y_test.go', 'package y\n\nimport "example.com/m/pkg/testonly"\n');
    await write('mod/pkg/w/w.go', 'package w\n\nconst W = 1\n');
    await write('mod/pkg/z/z.go', 'package z\n\nconst Z = 1\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('follows the module\'s imports from the main, through every build file, and keeps only their embeds', () => {
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/a')).toEqual({
      packageDirs: ['mod/cmd/a', 'mod/pkg/w', 'mod/pkg/x', 'mod/pkg/y'],
      embeds: ['mod/pkg/x/x.txt'],
    });
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/b')).toEqual({ packageDirs: ['mod/cmd/b', 'mod/pkg/z'], embeds: [] });
  });

  it('gives up, so the whole module stays the input, where imports alone do not say what compiles', async () => {
    await write('mod/pkg/z/go.mod', 'module example.com/m/pkg/z\n');
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/b')).toBeUndefined();
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/a')).toBeDefined();
    await write('mod/vendor/modules.txt', '');
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/a')).toBeUndefined();
  });

  it('gives up on an import of the module that names no folder of it', async () => {
    await write('mod/cmd/b/main.go', 'package main\n\nimport "example.com/m/pkg/gone"\n\nfunc main() {}\n');
    expect(mainPackageClosure(root, 'mod', 'mod/cmd/b')).toBeUndefined();
  });
});
