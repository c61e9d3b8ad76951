import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32Combine } from './crc32-combine';

describe('crc32Combine', () => {
  it('gives the CRC-32 of two pieces joined, for empty, odd and block-sized pieces', () => {
    for (const [a, b] of [[0, 0], [7, 0], [0, 9], [1, 1], [3, 65537], [1 << 20, 1 << 20], [100_003, 32 * 1024 + 1]]) {
      const first = randomBytes(a);
      const second = randomBytes(b);
      expect(crc32Combine(crc32(first), crc32(second), b)).toBe(crc32(Buffer.concat([first, second])));
    }
  });

  it('chains over many blocks in order, as a gzip trailer of a blocked layer needs', () => {
    const blocks = Array.from({ length: 12 }, (_, i) => randomBytes(1000 + i * 4099));
    let crc = 0;
    for (const block of blocks) crc = crc32Combine(crc, crc32(block), block.length);
    expect(crc).toBe(crc32(Buffer.concat(blocks)));
  });

  it('refuses a length that is not a byte count', () => {
    expect(() => crc32Combine(0, 0, -1)).toThrow(/not a byte count/);
    expect(() => crc32Combine(0, 0, 1.5)).toThrow(/not a byte count/);
  });
});
