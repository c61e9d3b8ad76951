import { createHash, randomBytes } from 'node:crypto';
import { createStreamHash, OFF_THREAD_HASH_MIN_BYTES } from './hash-off-thread';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Feeds `data` in pieces of the given sizes (repeated), waiting whenever the hash asks to. */
async function feed(expectedBytes: number, data: Buffer, cuts: number[]): Promise<string> {
  const hash = createStreamHash(expectedBytes);
  for (let at = 0, i = 0; at < data.length; i++) {
    const piece = data.subarray(at, at + cuts[i % cuts.length]);
    await hash.update(piece);
    at += piece.length;
  }
  return hash.digest();
}

describe('createStreamHash', () => {
  // 9 MiB and a bit: several 2 MiB batches, a partial last one, and more than the 8 MiB backlog in flight.
  const data = randomBytes(9 * 1024 * 1024 + 4321);

  it('gives the digest of the bytes on a worker, however they are cut', async () => {
    for (const cuts of [[data.length], [1024 * 1024], [1, 65535, 3 * 1024 * 1024 + 7], [2 * 1024 * 1024]]) {
      expect(await feed(OFF_THREAD_HASH_MIN_BYTES, data, cuts)).toBe(sha256(data));
    }
  });

  it('gives the same digest on the calling thread for small inputs', async () => {
    expect(await feed(1024, data, [65536])).toBe(sha256(data));
  });

  it('hashes nothing to the digest of no bytes', async () => {
    expect(await createStreamHash(OFF_THREAD_HASH_MIN_BYTES).digest()).toBe(sha256(Buffer.alloc(0)));
  });

  it('does not read a chunk after update returned: the caller may reuse it', async () => {
    const hash = createStreamHash(OFF_THREAD_HASH_MIN_BYTES);
    const chunk = Buffer.alloc(3 * 1024 * 1024, 1);
    await hash.update(chunk);
    chunk.fill(2);
    expect(await hash.digest()).toBe(sha256(Buffer.alloc(3 * 1024 * 1024, 1)));
  });

  it('stops its thread when abandoned, and refuses more bytes', async () => {
    const hash = createStreamHash(OFF_THREAD_HASH_MIN_BYTES);
    await hash.update(Buffer.alloc(1024));
    hash.abort();
    expect(() => hash.update(Buffer.alloc(1))).toThrow('The hash was abandoned.');
  });
});
