import { MultiarchError } from '../errors';
import { parseArch, parseArchList, parseSingleArch } from './parse-arch';
import { ARCHES, PLATFORMS, platformString } from './platforms';

describe('parseArch', () => {
  it.each([
    ['amd64', 'amd64'],
    ['x86_64', 'amd64'],
    ['linux/amd64', 'amd64'],
    ['aarch64', 'arm64'],
    ['linux/arm64', 'arm64'],
    ['arm', 'arm'],
    ['arm/v7', 'arm'],
    ['linux/arm/v7', 'arm'],
    ['armv7', 'arm'],
    ['armhf', 'arm'],
    ['ppc64el', 'ppc64le'],
    ['S390X', 's390x'],
  ])('normalises %s to %s', (input, expected) => {
    expect(parseArch(input)).toBe(expected);
  });

  it('rejects an unknown arch and lists the supported names', () => {
    expect(() => parseArch('mips')).toThrow(MultiarchError);
    try {
      parseArch('mips');
    } catch (e) {
      const err = e as MultiarchError;
      expect(err.message).toContain('"mips"');
      for (const arch of ARCHES) expect(err.hint).toContain(arch);
    }
  });

  it('does not take arm/v6 for arm/v7', () => {
    expect(() => parseArch('linux/arm/v6')).toThrow(/Unsupported arch/);
  });
});

describe('parseArchList', () => {
  it('splits comma lists, keeps order, drops repeats', () => {
    expect(parseArchList('arm64, arm,aarch64')).toEqual(['arm64', 'arm']);
    expect(parseArchList(['x86_64', 'armhf'])).toEqual(['amd64', 'arm']);
  });
  it('refuses an empty list', () => {
    expect(() => parseArchList(' , ')).toThrow(/No arch given/);
  });
});

describe('parseSingleArch', () => {
  it('returns the platform of one arch', () => {
    expect(parseSingleArch('armv7', 'docker-arch-build').oci).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });
  it('refuses several arches for a per-arch task, naming the per-arch targets', () => {
    expect(() => parseSingleArch('arm64,arm', 'docker-arch-build')).toThrow(/one arch per task/);
  });
  it('refuses a missing arch', () => {
    expect(() => parseSingleArch(undefined, 'cargo-cross')).toThrow(/needs an arch/);
  });
});

describe('platform table', () => {
  it('gives arm the v7 variant and arm64 none, in the docker spelling', () => {
    expect(platformString(PLATFORMS.arm.oci)).toBe('linux/arm/v7');
    expect(platformString(PLATFORMS.arm64.oci)).toBe('linux/arm64');
    expect(PLATFORMS.arm64.oci.variant).toBeUndefined();
  });
  it('always sets GOARM=7 for arm', () => {
    expect(PLATFORMS.arm.goEnv).toEqual({ GOARCH: 'arm', GOARM: '7' });
  });
});
