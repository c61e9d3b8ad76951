import { PLATFORMS } from '../../platform/platforms';
import { buildFailureHint, dockerBuildArgs, dockerLabelArgs } from './engine';

/** The command line the engine gives docker; the builds themselves are tested in test/docker-engine/. */
describe('dockerBuildArgs', () => {
  it('passes SOURCE_DATE_EPOCH first, then the build args in name order', () => {
    expect(dockerBuildArgs({ platform: PLATFORMS.arm, sourceDateEpoch: 1700000000, buildArgs: { VERSION: '1.2', APP: 'web' } })).toEqual([
      '--build-arg',
      'SOURCE_DATE_EPOCH=1700000000',
      '--build-arg',
      'APP=web',
      '--build-arg',
      'VERSION=1.2',
    ]);
  });

  it('leaves TARGET* to BuildKit: drops an agreeing value, refuses a contradicting one', () => {
    expect(dockerBuildArgs({ platform: PLATFORMS.arm, sourceDateEpoch: 1, buildArgs: { TARGETARCH: 'arm', TARGETVARIANT: 'v7' } })).toEqual([
      '--build-arg',
      'SOURCE_DATE_EPOCH=1',
    ]);
    expect(() => dockerBuildArgs({ platform: PLATFORMS.arm64, sourceDateEpoch: 1, buildArgs: { TARGETARCH: 'amd64' } })).toThrow(
      'buildArgs sets TARGETARCH=amd64, but BuildKit sets TARGETARCH itself from the platform (linux/arm64).',
    );
    expect(() => dockerBuildArgs({ platform: PLATFORMS.arm64, sourceDateEpoch: 1, buildArgs: { BUILDPLATFORM: 'linux/arm64' } })).toThrow(/BuildKit sets BUILDPLATFORM itself/);
  });

  it('refuses a SOURCE_DATE_EPOCH build arg that contradicts sourceDateEpoch', () => {
    expect(() => dockerBuildArgs({ platform: PLATFORMS.arm64, sourceDateEpoch: 5, buildArgs: { SOURCE_DATE_EPOCH: '6' } })).toThrow(/Set the sourceDateEpoch option|sourceDateEpoch is 5/);
    expect(dockerBuildArgs({ platform: PLATFORMS.arm64, sourceDateEpoch: 5, buildArgs: { SOURCE_DATE_EPOCH: '5' } })).toEqual(['--build-arg', 'SOURCE_DATE_EPOCH=5']);
  });
});

it('passes labels in name order', () => {
  expect(dockerLabelArgs({ 'org.opencontainers.image.source': 'https://example.test/x', 'a.b': 'c' })).toEqual([
    '--label',
    'a.b=c',
    '--label',
    'org.opencontainers.image.source=https://example.test/x',
  ]);
});

it('turns the failures a user can fix into hints', () => {
  expect(buildFailureHint('#5 0.101 exec /bin/sh: exec format error', PLATFORMS.arm64)).toMatch(/services.sh start binfmt/);
  expect(buildFailureHint('failed to do request: Head "https://registry.example.test/v2/library/bb/manifests/x": dial tcp: lookup registry.example.test: no such host', PLATFORMS.arm64)).toMatch(
    /Nothing can be pulled from the internet here/,
  );
  expect(buildFailureHint('failed to compute cache key: failed to walk /var/lib/docker/tmp/buildkit-mount1/bin: lstat …: no such file or directory', PLATFORMS.arm64)).toMatch(
    /COPY\/ADD source is missing from the build context/,
  );
});
