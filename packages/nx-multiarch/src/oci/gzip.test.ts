import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as pako from 'pako';
import { deflateProbe, gunzip, gzipDeterministic, gzipImplementation, gzipWith, matchesPako } from './gzip';

describe('deterministic gzip', () => {
  it('gives pako\'s bytes from Node\'s zlib on real inputs: a machine-code binary and this package\'s sources', () => {
    const binary = readFileSync(process.execPath).subarray(0, 8 * 1024 * 1024);
    const sources = Buffer.concat(['gzip.ts', 'layer.ts', 'tar.ts', 'layout.ts'].map((name) => readFileSync(join(__dirname, name))));
    for (const input of [binary, sources, deflateProbe(), Buffer.alloc(0)]) {
      expect(gzipWith('zlib', input).equals(gzipWith('pako', input))).toBe(true);
    }
  });

  it('takes the fast path only where the probe proves the bytes, and the probe catches a deflate that differs', () => {
    // Settings that keep the format but change which matches deflate finds: each must fail the probe.
    expect(matchesPako((data) => gzipSync(data, { level: 5 }))).toBe(false);
    expect(matchesPako((data) => gzipSync(data, { level: 6, memLevel: 9 }))).toBe(false);
    expect(matchesPako((data) => Buffer.from(pako.gzip(data, { level: 6, strategy: 1 })))).toBe(false);
    expect(matchesPako((data) => gzipSync(data, { level: 6 }))).toBe(true);
    // On this machine Node's zlib passes, so layers are compressed natively.
    expect(gzipImplementation()).toBe('zlib');
  });

  it('falls back to pako when NX_MULTIARCH_GZIP=pako, with the same bytes', () => {
    const script = `const g = require(${JSON.stringify(join(__dirname, 'gzip.ts'))}); process.stdout.write(g.gzipImplementation() + ' ' + g.gzipDeterministic(g.deflateProbe()).toString('base64'))`;
    const run = spawnSync(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', script], {
      env: { ...process.env, NX_MULTIARCH_GZIP: 'pako' },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    const [implementation, bytes] = run.stdout.split(' ');
    expect(implementation).toBe('pako');
    expect(Buffer.from(bytes, 'base64').equals(gzipDeterministic(deflateProbe()))).toBe(true);
  });

  it('decompresses what it compresses, and names a corrupt stream', () => {
    const data = deflateProbe();
    expect(gunzip(gzipDeterministic(data)).equals(data)).toBe(true);
    expect(() => gunzip(Buffer.from('not gzip'))).toThrow(/incorrect header check/);
  });
});
