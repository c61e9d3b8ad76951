import { leftOutBy, nonReleaseRule, parseInclude } from './release-rules';

describe('what is not a release artifact', () => {
  it.each([
    [{ dir: 'linkerd/app/fuzz', kind: 'cargo', name: 'linkerd-app-fuzz' }, 'fuzz'],
    [{ dir: 'fuzzers/http', kind: 'cargo', name: 'fuzz-http' }, 'fuzz'],
    [{ dir: 'examples/hello', kind: 'go' }, 'examples'],
    [{ dir: 'test/integration/images/echo', kind: 'dockerfile' }, 'tests'],
    [{ dir: 'policy', kind: 'dockerfile', name: 'test' }, 'tests'],
    [{ dir: '.devcontainer', kind: 'dockerfile' }, 'devcontainer'],
    [{ dir: 'controller', kind: 'dockerfile', name: 'dev' }, 'development'],
    [{ dir: 'controller', kind: 'dockerfile', name: 'controller.dev' }, 'development'],
    [{ dir: 'web', kind: 'dockerfile', comments: '# For local development only.' }, 'development'],
    [{ dir: 'controller/cmd', kind: 'go' }, undefined],
    [{ dir: 'debug', kind: 'dockerfile', name: 'debug' }, undefined],
    [{ dir: 'linkerd2-proxy', kind: 'cargo', name: 'linkerd2-proxy' }, undefined],
    [{ dir: 'devtools', kind: 'dockerfile', name: 'devtools' }, undefined],
  ] as const)('%j → %s', (candidate, rule) => {
    expect(nonReleaseRule(candidate)).toBe(rule);
  });

  it('lets --include turn a rule off by name or keep a path by glob', () => {
    const fuzz = { dir: 'linkerd/app/fuzz', kind: 'cargo', name: 'linkerd-app-fuzz' } as const;
    expect(leftOutBy(fuzz, 'linkerd/app/fuzz', parseInclude(undefined))).toBe('fuzz');
    expect(leftOutBy(fuzz, 'linkerd/app/fuzz', parseInclude('fuzz'))).toBeUndefined();
    expect(leftOutBy(fuzz, 'linkerd/app/fuzz', parseInclude(['linkerd/**']))).toBeUndefined();
    expect(leftOutBy(fuzz, 'linkerd/app/fuzz', parseInclude('examples, other/**'))).toBe('fuzz');
  });
});
