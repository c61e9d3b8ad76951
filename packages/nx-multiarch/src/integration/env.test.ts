import { decodeTestContext, encodeTestContext, ENV, type TestContext } from './env';

describe('the executor-to-test environment contract', () => {
  const context: TestContext = {
    project: 'linkerd2-web',
    arch: 'arm',
    platform: 'linux/arm/v7',
    runner: 'qemu',
    imageLayout: '/ws/dist/images/linkerd2-web/arm',
    images: { controller: '/ws/dist/images/linkerd2-controller/arm' },
    binaries: { linkerd: '/ws/dist/cross/linkerd2-cli/arm/linkerd' },
    workDir: '/tmp/w',
    emulateHost: false,
    readyTimeoutMs: 45000,
    testHostAddress: '127.0.0.1',
  };

  it('round-trips through environment variables', () => {
    const env = encodeTestContext(context);
    expect(env[ENV.arch]).toBe('arm');
    expect(env[ENV.runner]).toBe('qemu');
    expect(env[ENV.imageLayout]).toBe('/ws/dist/images/linkerd2-web/arm');
    expect(decodeTestContext(env)).toEqual(context);
  });

  it('normalises the arch spelling', () => {
    expect(decodeTestContext({ [ENV.arch]: 'aarch64' }).arch).toBe('arm64');
  });

  it('says how to run a test that is run outside the executor', () => {
    expect(() => decodeTestContext({})).toThrow(/NX_MULTIARCH_ARCH is not set/);
  });

  it('refuses an unknown runner and a malformed map', () => {
    expect(() => decodeTestContext({ [ENV.arch]: 'arm64', [ENV.runner]: 'podman' })).toThrow('NX_MULTIARCH_RUNNER="podman" is not a runner.');
    expect(() => decodeTestContext({ [ENV.arch]: 'arm64', [ENV.images]: '["x"]' })).toThrow(/must be a JSON object of strings/);
  });
});
