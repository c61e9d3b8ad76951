import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findGoModuleRoot, parseGoMod } from './go-module';
import { embedPatterns, goBinaryName, goPackageName, isMainPackage } from './go-source';

describe('Go source facts', () => {
  it('reads the package clause after comments and build constraints', () => {
    expect(goPackageName('// Copyright\n\n// Package main runs.\npackage main\n\nfunc main() {}\n')).toBe('main');
    expect(goPackageName('//go:build linux\n\npackage server\n')).toBe('server');
  });

  it('leaves out files excluded from every build', () => {
    expect(goPackageName('//go:build ignore\n\npackage main\n')).toBeUndefined();
    expect(goPackageName('// +build ignore\n\npackage main\n')).toBeUndefined();
  });

  it('is a main package only through a build file that is not //go:build ignore', () => {
    const file = (name: string, text: string) => ({ name, read: () => text });
    expect(isMainPackage([file('gen.go', '//go:build ignore\n\npackage main\n'), file('lib.go', 'package lib\n')])).toBe(false);
    expect(isMainPackage([file('main_test.go', 'package main\n')])).toBe(false);
    expect(isMainPackage([file('lib.go', 'package lib\n'), file('main.go', 'package main\n')])).toBe(true);
  });

  it('reads //go:embed patterns, quoted ones and all: prefixes too', () => {
    expect(embedPatterns('package a\n\n//go:embed static/*.html "with space.txt" all:assets\nvar files embed.FS\n')).toEqual(['static/*.html', 'with space.txt', 'assets']);
  });

  it('names binaries as go build does, skipping a major-version suffix', () => {
    expect(goBinaryName('example.com/linkerd2/controller')).toBe('controller');
    expect(goBinaryName('example.com/tool/v2')).toBe('tool');
    expect(goBinaryName('example.com/tool/v1')).toBe('v1');
    expect(goBinaryName('hello')).toBe('hello');
  });
});

describe('go.mod', () => {
  it('reads module, go and toolchain directives, quoted or with comments', () => {
    expect(parseGoMod('// header\nmodule "example.com/x" // the module\n\ngo 1.22.3\n\ntoolchain go1.23.1\n\nrequire (\n\tgolang.org/x/sys v0.1.0\n)\n')).toEqual({
      modulePath: 'example.com/x',
      goVersion: '1.22.3',
      toolchain: 'go1.23.1',
    });
    expect(parseGoMod('module example.com/y\n')).toEqual({ modulePath: 'example.com/y' });
  });

  it('finds the nearest module root at or above a folder', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'nxm-gomod-'));
    try {
      await mkdir(join(ws, 'repo/cmd/tool'), { recursive: true });
      await mkdir(join(ws, 'repo/nested/cmd'), { recursive: true });
      await writeFile(join(ws, 'repo/go.mod'), 'module example.com/repo\n');
      await writeFile(join(ws, 'repo/nested/go.mod'), 'module example.com/nested\n');
      expect(findGoModuleRoot(ws, 'repo/cmd/tool')).toBe('repo');
      expect(findGoModuleRoot(ws, 'repo/nested/cmd')).toBe('repo/nested');
      expect(findGoModuleRoot(ws, 'elsewhere')).toBeUndefined();
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});
