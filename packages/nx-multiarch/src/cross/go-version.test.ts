import { canSwitchToolchains, compareGoVersions, readGoModPins, toolchainFor, wantedVersion } from './go-version';

describe('go.mod pins', () => {
  it('reads the go and toolchain lines, ignoring comments and other directives', () => {
    const goMod = 'module example.com/x // the module\n\ngo 1.26.0 // language\n\ntoolchain go1.26.1\n\nrequire github.com/spf13/cobra v1.10.2\n';
    expect(readGoModPins(goMod)).toEqual({ go: '1.26.0', toolchain: '1.26.1' });
    expect(readGoModPins('module m\n')).toEqual({});
    expect(readGoModPins('module m\ngo 1.22\ntoolchain default\n')).toEqual({ go: '1.22' });
  });

  it('wants the newer of the two lines', () => {
    expect(wantedVersion({ go: '1.26.0', toolchain: '1.26.1' })).toBe('1.26.1');
    expect(wantedVersion({ go: '1.26.0', toolchain: '1.25.0' })).toBe('1.26.0');
    expect(wantedVersion({})).toBeUndefined();
  });
});

describe('Go version order', () => {
  it('orders language versions before candidates before releases', () => {
    const sorted = ['1.26.8', '1.21.0', '1.21', '1.21rc2', '1.21rc1', '1.21beta1', '1.20', '1.19', '1.26.10', 'go1.26.9'].sort(compareGoVersions);
    expect(sorted).toEqual(['1.19', '1.20', '1.21', '1.21beta1', '1.21rc1', '1.21rc2', '1.21.0', '1.26.8', 'go1.26.9', '1.26.10']);
  });

  it('meets a language version with its first release, and knows which Go can switch', () => {
    expect(toolchainFor('1.26')).toBe('go1.26.0');
    expect(toolchainFor('1.26.3')).toBe('go1.26.3');
    expect(toolchainFor('go1.22rc1')).toBe('go1.22rc1');
    expect(canSwitchToolchains('go1.19.8')).toBe(false);
    expect(canSwitchToolchains('go1.26.8')).toBe(true);
    expect(compareGoVersions('go1.26.8', '1.26.0')).toBeGreaterThan(0);
    expect(compareGoVersions('go1.19.8', '1.26.0')).toBeLessThan(0);
  });
});
