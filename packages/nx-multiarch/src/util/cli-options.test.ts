import { cliOptions } from './cli-options';

const missing = (name: string) => new Error(`${name} needs a value.`);

/** What a parser that reads a value for every option after --arch and --target would see. */
function read(argv: string[], isValue?: (v: string) => boolean): Array<[string, string | undefined]> {
  const seen: Array<[string, string | undefined]> = [];
  for (const option of cliOptions(argv, missing, isValue)) seen.push([option.name, option.name === '--arch' || option.name === '--target' ? option.value() : undefined]);
  return seen;
}

describe('cliOptions', () => {
  it('reads a value inline after = or from the next argument, which is then not an option of its own', () => {
    expect(read(['--arch=arm64,amd64', '--print', '--target', 'docker-arch-build', '-h'])).toEqual([
      ['--arch', 'arm64,amd64'],
      ['--print', undefined],
      ['--target', 'docker-arch-build'],
      ['-h', undefined],
    ]);
  });

  it('names the option whose value is missing or empty', () => {
    expect(() => read(['--print', '--arch'])).toThrow('--arch needs a value.');
    expect(() => read(['--target='])).toThrow('--target needs a value.');
  });

  it('refuses a next argument the parser does not count as a value', () => {
    const notAnOption = (v: string) => v !== '' && !v.startsWith('--');
    expect(() => read(['--arch', '--print'], notAnOption)).toThrow('--arch needs a value.');
    expect(read(['--arch', '--print'])).toEqual([['--arch', '--print']]);
  });
});
