import { MultiarchError } from '../errors';
import { chooseToolchain } from './go-toolchain';

describe('chooseToolchain', () => {
  const goMod = '/ws/m/go.mod';

  it('keeps the installed Go when it meets both lines, so nothing is fetched', () => {
    expect(chooseToolchain({ go: '1.26.0' }, 'go1.26.8', undefined, goMod)).toBe('local');
    expect(chooseToolchain({}, 'go1.26.8', undefined, goMod)).toBe('local');
  });

  it('asks Go to fetch the release the lines want when the installed one is older', () => {
    expect(chooseToolchain({ go: '1.26.0', toolchain: '1.26.9' }, 'go1.26.8', undefined, goMod)).toBe('go1.26.9');
    expect(chooseToolchain({ go: '1.27' }, 'go1.26.8', '', goMod)).toBe('go1.27.0');
  });

  it("follows the user's GOTOOLCHAIN, unless local cannot meet the go line", () => {
    expect(chooseToolchain({ go: '1.99.0' }, 'go1.26.8', 'auto', goMod)).toBe('auto');
    expect(chooseToolchain({ go: '1.26.0' }, 'go1.26.8', 'local', goMod)).toBe('local');
    expect(() => chooseToolchain({ go: '1.99.0' }, 'go1.26.8', 'local', goMod)).toThrow(
      new MultiarchError('/ws/m/go.mod pins go 1.99.0, but the installed Go is go1.26.8 and GOTOOLCHAIN=local forbids fetching another.'),
    );
  });

  it('names the pin and the installed Go when that Go predates GOTOOLCHAIN', () => {
    expect(chooseToolchain({ go: '1.19' }, 'go1.19.8', undefined, goMod)).toBeUndefined();
    let error: unknown;
    try {
      chooseToolchain({ go: '1.26.0' }, 'go1.19.8', undefined, goMod);
    } catch (e) {
      error = e;
    }
    expect((error as MultiarchError).message).toContain('pins go 1.26.0, but the installed Go is go1.19.8');
    expect((error as MultiarchError).hint).toContain('Go 1.21 or newer');
  });
});
