import { MultiarchError } from '../errors';
import { PLATFORMS } from '../platform/platforms';
import { checkedPlatformFields, DockerImageConfig, epochToRfc3339, toOciConfig } from './docker-config';

const DIFF = `sha256:${'a'.repeat(64)}` as const;

/** What engine 20.10's BuildKit writes for `FROM scratch` + COPY + ENTRYPOINT (as read from docker save). */
function daemonConfig(overrides: Partial<DockerImageConfig> = {}): DockerImageConfig {
  return {
    architecture: 'arm64',
    os: 'linux',
    created: '2026-11-27T05:38:15.695877461Z',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: ['/hello'],
      WorkingDir: '/',
      OnBuild: null,
      Labels: { 'org.example': 'x' },
    },
    rootfs: { type: 'layers', diff_ids: [DIFF] },
    history: [
      { created: '2026-11-27T05:38:15.695877461Z', created_by: 'ARG SOURCE_DATE_EPOCH', comment: 'buildkit.dockerfile.v0', empty_layer: true },
      { created: '2026-11-27T05:38:15.695877461Z', created_by: 'COPY hello /hello # buildkit', comment: 'buildkit.dockerfile.v0' },
    ],
    ...overrides,
  };
}

describe('toOciConfig', () => {
  it('sets every time to SOURCE_DATE_EPOCH, drops Docker bookkeeping, and keeps what the image means', () => {
    const config = toOciConfig(daemonConfig(), PLATFORMS.arm64, [DIFF], 1700000000);
    expect(config).toEqual({
      created: '2023-11-14T22:13:20Z',
      architecture: 'arm64',
      os: 'linux',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Entrypoint: ['/hello'],
        WorkingDir: '/',
        Labels: { 'org.example': 'x' },
      },
      rootfs: { type: 'layers', diff_ids: [DIFF] },
      history: [
        { created: '2023-11-14T22:13:20Z', created_by: 'ARG SOURCE_DATE_EPOCH', comment: 'buildkit.dockerfile.v0', empty_layer: true },
        { created: '2023-11-14T22:13:20Z', created_by: 'COPY hello /hello # buildkit', comment: 'buildkit.dockerfile.v0' },
      ],
    });
  });

  it('keeps ONBUILD triggers and SHELL, which a later FROM of the image needs', () => {
    const config = toOciConfig(
      daemonConfig({ config: { OnBuild: ['RUN make'], Shell: ['/bin/bash', '-c'] } }),
      PLATFORMS.arm64,
      [DIFF],
      0,
    );
    expect(config.config).toEqual({ OnBuild: ['RUN make'], Shell: ['/bin/bash', '-c'] });
  });

  it('uses the diff_ids of the normalised layers and refuses a count that does not match', () => {
    const other = `sha256:${'b'.repeat(64)}` as const;
    expect(toOciConfig(daemonConfig(), PLATFORMS.arm64, [other], 0).rootfs.diff_ids).toEqual([other]);
    expect(() => toOciConfig(daemonConfig(), PLATFORMS.arm64, [other, other], 0)).toThrow(/lists 1 layers but the archive holds 2/);
  });
});

describe('checkedPlatformFields', () => {
  it('sets arm variant v7 when BuildKit leaves it out, and drops arm64 v8', () => {
    expect(checkedPlatformFields(daemonConfig({ architecture: 'arm' }), PLATFORMS.arm)).toEqual({ architecture: 'arm', os: 'linux', variant: 'v7' });
    expect(checkedPlatformFields(daemonConfig({ architecture: 'arm', variant: 'v7' }), PLATFORMS.arm)).toEqual({ architecture: 'arm', os: 'linux', variant: 'v7' });
    expect(checkedPlatformFields(daemonConfig({ variant: 'v8' }), PLATFORMS.arm64)).toEqual({ architecture: 'arm64', os: 'linux' });
  });

  it('refuses another architecture or an arm variant other than v7', () => {
    expect(() => checkedPlatformFields(daemonConfig({ architecture: 'amd64' }), PLATFORMS.arm64)).toThrow(
      'The docker build produced an image for linux/amd64, not linux/arm64.',
    );
    let error: unknown;
    try {
      checkedPlatformFields(daemonConfig({ architecture: 'arm', variant: 'v6' }), PLATFORMS.arm);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toBe('The docker build produced an image for linux/arm/v6, not linux/arm/v7.');
    expect((error as MultiarchError).hint).toMatch(/base image probably has no linux\/arm\/v7 variant/);
  });
});

it('writes RFC 3339 times without fractions, as BuildKit does', () => {
  expect(epochToRfc3339(0)).toBe('1970-01-01T00:00:00Z');
});
