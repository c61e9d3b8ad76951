import { chainLookup, processWord, processWords } from './substitute';

const vars = new Map([
  ['TARGETARCH', 'arm'],
  ['EMPTY', ''],
  ['GREETING', 'hello world'],
]);
const lookup = chainLookup(vars);

describe('processWord', () => {
  it.each([
    ['bin/${TARGETARCH}/proxy', 'bin/arm/proxy'],
    ['bin/$TARGETARCH/proxy', 'bin/arm/proxy'],
    ['$TARGETARCH-suffix', 'arm-suffix'],
    ['${UNSET}', ''],
    ['${UNSET:-amd64}', 'amd64'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${TARGETARCH:+set}', 'set'],
    ['${UNSET:+set}', ''],
    ['${UNSET:-${TARGETARCH}}', 'arm'],
    ["'$TARGETARCH'", '$TARGETARCH'],
    ['"$GREETING"', 'hello world'],
    ['"a \\"q\\" \\$x"', 'a "q" $x'],
    ['a\\ b', 'a b'],
    ['\\$TARGETARCH', '$TARGETARCH'],
    ['cost: 5$', 'cost: 5$'],
    ['"with \\n kept"', 'with \\n kept'],
  ])('%s -> %s', (input, expected) => {
    expect(processWord(input, lookup)).toBe(expected);
  });

  it('takes another escape character', () => {
    expect(processWord('a`$b', lookup, '`')).toBe('a$b');
  });

  it('fails on ${VAR:?} when unset, with the message', () => {
    expect(() => processWord('${UNSET:?set UNSET please}', lookup)).toThrow('UNSET: set UNSET please');
  });

  it('fails on unterminated quotes and braces', () => {
    expect(() => processWord('"open', lookup)).toThrow(/Unterminated double quote/);
    expect(() => processWord("'open", lookup)).toThrow(/Unterminated single quote/);
    expect(() => processWord('${OPEN', lookup)).toThrow(/Missing }/);
    expect(() => processWord('${A%%x}', lookup)).toThrow(/Unsupported substitution/);
  });
});

describe('processWords', () => {
  it('splits at unquoted white space only, after substitution', () => {
    expect(processWords('80/tcp  "9990 x" $GREETING ""', lookup)).toEqual(['80/tcp', '9990 x', 'hello', 'world', '']);
  });
});

describe('chainLookup', () => {
  it('takes the first scope that has the name', () => {
    const env = new Map([['A', 'env']]);
    const args = new Map([
      ['A', 'arg'],
      ['B', 'arg'],
    ]);
    const l = chainLookup(env, args);
    expect([l('A'), l('B'), l('C')]).toEqual(['env', 'arg', undefined]);
  });
});
