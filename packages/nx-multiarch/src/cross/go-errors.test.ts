import { classifyGoFailure, redactProxy } from './go-errors';

const ctx = { cwd: '/ws/packages/m', what: 'go list .', goproxy: 'https://user:secret@proxy.example,direct', installed: 'go1.26.8', goLine: '1.26.0' };

describe('classifyGoFailure', () => {
  it('leaves compile errors to the compiler output', () => {
    expect(classifyGoFailure('./main.go:5:2: undefined: x\n', ctx)).toBeUndefined();
  });

  it('names GOPROXY, go mod download and vendoring for an unreachable proxy, without its credentials', () => {
    const stderr =
      'go: github.com/spf13/pflag@v1.0.9: Get "http://127.0.0.1:9/github.com/spf13/pflag/@v/v1.0.9.mod": dial tcp 127.0.0.1:9: connect: connection refused\n';
    const error = classifyGoFailure(stderr, ctx);
    expect(error?.message).toContain('GOPROXY (https://proxy.example,direct) is unreachable');
    expect(error?.message).toContain('connection refused');
    expect(error?.hint).toContain('go mod download');
    expect(error?.hint).toContain('go mod vendor');
    expect(`${error?.message}${error?.hint}`).not.toContain('secret');
  });

  it('names go mod tidy for a go.sum that lacks a module', () => {
    const error = classifyGoFailure('main.go:6:2: missing go.sum entry for module providing package github.com/spf13/cobra\n', ctx);
    expect(error?.hint).toContain('go mod tidy');
  });

  it('does not blame the main option for a go line an old Go cannot read', () => {
    const error = classifyGoFailure("go: errors parsing go.mod:\n/ws/go.mod:3: invalid go version '1.26.0': must match format 1.23\n", {
      ...ctx,
      installed: 'go1.19.8',
    });
    expect(error?.message).toContain("go line (1.26.0) is newer than the installed go1.19.8");
    expect(error?.hint).toContain('Go 1.21 or newer');
    expect(error?.hint).not.toContain('"main"');
  });

  it('names the pin, the Go that ran and the fix when GOTOOLCHAIN forbids a switch', () => {
    const error = classifyGoFailure('go: go.mod requires go >= 1.99.0 (running go 1.26.8; GOTOOLCHAIN=local)\n', ctx);
    expect(error?.message).toContain('pins go 1.99.0');
    expect(error?.message).toContain('go1.26.8');
    expect(error?.hint).toContain('GOTOOLCHAIN');
  });

  it('removes user:password from every URL of a proxy list', () => {
    expect(redactProxy('https://a:b@one.example|http://c@two.example,off')).toBe('https://one.example|http://two.example,off');
  });
});
