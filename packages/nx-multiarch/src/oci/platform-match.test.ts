import { PLATFORMS } from '../platform/platforms';
import { describePlatform, normalizePlatform, platformMatches } from './platform-match';

describe('platformMatches', () => {
  it('matches os, architecture and variant with containerd defaults (arm = v7, arm64/v8 = arm64)', () => {
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, PLATFORMS.arm.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm' }, PLATFORMS.arm.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, PLATFORMS.arm.oci)).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, PLATFORMS.arm64.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, PLATFORMS.arm64.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v9' }, PLATFORMS.arm64.oci)).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, PLATFORMS.arm64.oci)).toBe(false);
    expect(platformMatches(undefined, PLATFORMS.amd64.oci)).toBe(false);
  });

  it('checks the os (a windows image is no linux image)', () => {
    expect(platformMatches({ os: 'windows', architecture: 'amd64' }, PLATFORMS.amd64.oci)).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, PLATFORMS.amd64.oci)).toBe(true);
  });

  it('reads the aliases other tools write', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'aarch64' })).toEqual({ os: 'linux', architecture: 'arm64', variant: '' });
    expect(normalizePlatform({ os: 'linux', architecture: 'x86_64', variant: 'v1' })).toEqual({ os: 'linux', architecture: 'amd64', variant: '' });
    expect(normalizePlatform({ os: 'linux', architecture: 'armhf' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: 'v3' })).toEqual({ os: 'linux', architecture: 'amd64', variant: 'v3' });
  });

  it('describes a platform as written', () => {
    expect(describePlatform(PLATFORMS.arm.oci)).toBe('linux/arm/v7');
    expect(describePlatform({ os: 'linux', architecture: 'arm64' })).toBe('linux/arm64');
  });
});
