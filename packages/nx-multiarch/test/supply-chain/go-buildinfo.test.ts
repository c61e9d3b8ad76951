import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { goBuildInfoInFile, goBuildInfoOf, goBuildInfoOffset } from '../../src/supply-chain/go-buildinfo';
import { goBinaryInfoOf, parseGoVersionM } from '../../src/supply-chain/go-modules';
import { cleanUpTemp, FIXTURES, workspaceWith } from '../cross/helpers';

/**
 * The SBOM reads a Go binary's build info from its bytes instead of running
 * `go version -m`. Real binaries, cross-built by go for three arches (32-bit
 * arm too) from a module with a dependency from the module proxy (pflag) and a
 * replaced local module: what the bytes give must be what `go version -m`
 * prints, line for line, read from memory and from disk alike.
 */
jest.setTimeout(300_000);
afterAll(cleanUpTemp);

const ARCHES = [
  { arch: 'amd64', env: { GOARCH: 'amd64' } },
  { arch: 'arm64', env: { GOARCH: 'arm64' } },
  { arch: 'arm', env: { GOARCH: 'arm', GOARM: '7' } },
];

let root: string;
beforeAll(() => {
  const made = workspaceWith(join(FIXTURES, 'go-deps'), 'go-buildinfo');
  root = join(made.root, made.projectRoot);
  mkdirSync(join(root, 'greet'));
  writeFileSync(join(root, 'greet/go.mod'), 'module example.com/greet\n\ngo 1.21\n');
  writeFileSync(join(root, 'greet/greet.go'), 'package greet\n\nfunc Hello() string { return "hello" }\n');
  writeFileSync(join(root, 'go.mod'), `${readFileSync(join(root, 'go.mod'), 'utf8')}\nrequire example.com/greet v0.1.0\n\nreplace example.com/greet => ./greet\n`);
  writeFileSync(join(root, 'greet.go'), 'package main\n\nimport "example.com/greet"\n\nvar _ = greet.Hello\n');
});

function goVersionM(file: string): string {
  return execFileSync('go', ['version', '-m', file], { encoding: 'utf8' });
}

describe.each(ARCHES)('a Go binary for $arch', ({ arch, env }) => {
  let file: string;
  let bytes: Buffer;
  beforeAll(() => {
    file = join(root, `go-deps-${arch}`);
    execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', file, '.'], {
      cwd: root,
      env: { ...process.env, ...env, CGO_ENABLED: '0', GOOS: 'linux', GOFLAGS: '-mod=mod', GOWORK: 'off' },
      stdio: 'pipe',
    });
    bytes = readFileSync(file);
  });

  it('gives the Go version and the module info `go version -m` prints, line for line', () => {
    const info = goBuildInfoOf(bytes);
    const printed = goVersionM(file).trimEnd().split('\n');
    expect(printed[0]).toBe(`${file}: ${info?.goVersion}`);
    expect(info?.modInfo.trimEnd().split('\n')).toEqual(printed.slice(1).map((line) => line.replace(/^\t/, '')));
  });

  it('lists the module from the proxy with its go.sum hash and the replaced module as linked, as parsed from `go version -m`', () => {
    const fromBytes = goBinaryInfoOf(goBuildInfoOf(bytes)!, 'usr/bin/go-deps');
    expect(fromBytes).toEqual(parseGoVersionM(goVersionM(file), 'usr/bin/go-deps'));
    expect(fromBytes.deps).toContainEqual({ path: 'github.com/spf13/pflag', version: 'v1.0.9', sum: expect.stringMatching(/^h1:/) });
    expect(fromBytes.deps).toContainEqual({ path: './greet', version: '(devel)' });
    expect(fromBytes.goVersion).toMatch(/^go1\.\d+/);
  });

  it('reads the same from the file on disk at the header Go would find', async () => {
    const at = goBuildInfoOffset(bytes);
    expect(at % 16).toBe(0);
    expect(await goBuildInfoInFile(file, at)).toEqual(goBuildInfoOf(bytes));
  });
});
