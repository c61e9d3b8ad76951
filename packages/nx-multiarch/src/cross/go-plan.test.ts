import { PLATFORMS } from '../platform/platforms';
import { binaryNames, defaultBinaryName, goEnv, goLdflags, planGoBuild, resolveVersion } from './go-plan';

describe('goEnv', () => {
  it('turns CGO off and sets GOOS, GOARCH and GOARM=7 for arm', () => {
    const env = goEnv(PLATFORMS.arm, { PATH: '/usr/bin', CGO_ENABLED: '1' });
    expect(env).toMatchObject({ PATH: '/usr/bin', CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'arm', GOARM: '7' });
  });
  it('drops variant settings that would change bytes without being a cache input', () => {
    const env = goEnv(PLATFORMS.amd64, { GOAMD64: 'v3', GOARM: '6' });
    expect(env.GOAMD64).toBeUndefined();
    expect(env.GOARM).toBeUndefined();
    expect(env.GOARCH).toBe('amd64');
  });
});

describe('planGoBuild', () => {
  it('passes reproducible flags, the ldflags, tags and every main to one go build', () => {
    const plan = planGoBuild({
      platform: PLATFORMS.arm64,
      mains: ['./cmd/a', './cmd/b'],
      output: '/tmp/out/',
      ldflags: goLdflags('v1.2.3', 'main.version', '-X main.extra=1'),
      tags: ['prod', 'netgo'],
      baseEnv: {},
    });
    expect(plan.args).toEqual([
      'build', '-trimpath', '-buildvcs=false', '-ldflags', '-s -w -buildid= -X main.version=v1.2.3 -X main.extra=1',
      '-tags', 'prod,netgo', '-o', '/tmp/out/', './cmd/a', './cmd/b',
    ]);
    expect(plan.env.GOARCH).toBe('arm64');
  });
});

describe('versions and names', () => {
  it('takes the version from the option, then the environment, then "dev"', () => {
    expect(resolveVersion({ version: 'v1' }, { NX_MULTIARCH_VERSION: 'v2' })).toBe('v1');
    expect(resolveVersion({}, { NX_MULTIARCH_VERSION: 'v2' })).toBe('v2');
    expect(resolveVersion({}, {})).toBe('dev');
  });
  it('refuses a version that -X cannot carry', () => {
    expect(() => resolveVersion({ version: 'v1 beta' }, {})).toThrow(/spaces, quotes/);
  });
  it('names binaries as go build does', () => {
    expect(defaultBinaryName('example.com/linkerd2/controller')).toBe('controller');
    expect(defaultBinaryName('example.com/tool/v2')).toBe('tool');
    expect(binaryNames(['example.com/a/cmd/x'], 'y')).toEqual(['y']);
  });
  it('refuses outputName with several mains, and two mains with one name', () => {
    expect(() => binaryNames(['a/x', 'b/y'], 'z')).toThrow(/outputName" names one binary/);
    expect(() => binaryNames(['a/cmd/x', 'b/cmd/x'], undefined)).toThrow(/both be written as x/);
    expect(() => binaryNames(['a/x'], '../x')).toThrow(/not a file name/);
  });
});
