/**
 * CRC-32 of two pieces joined, from the CRC-32 of each and the second's
 * length: what lets blocks compressed on other threads each bring their own
 * CRC-32 while gzip's trailer needs the CRC-32 of the whole input. Node has
 * zlib's crc32 but not its crc32_combine, and the arithmetic is short, so it
 * is written here.
 *
 * The math: a CRC is the message as a polynomial over GF(2), times x^32, mod
 * the CRC polynomial P. Appending n bytes to a message multiplies its part of
 * the remainder by x^(8n) mod P, so
 *
 *   crc(A || B) = crc(A) · x^(8·|B|) mod P  xor  crc(B)
 *
 * (the pre- and post-inversions of CRC-32 cancel out in this form). x^(8n) is
 * built from the squares x^(2^k), one per bit of 8n.
 */

/** CRC-32's polynomial, bit-reversed: bit 31 is x^0, bit 0 is x^31. */
const POLYNOMIAL = 0xedb88320;
/** The polynomial 1 (x^0) in that order. */
const ONE = 0x80000000;

/** a · b mod P, both in the reflected order. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  let factor = b >>> 0;
  for (let bit = ONE; bit !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= factor;
    // factor · x: a shift towards higher powers, reduced by P when x^32 appears.
    factor = factor & 1 ? (factor >>> 1) ^ POLYNOMIAL : factor >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..31; the sequence repeats from there on for the exponents used here. */
const X_POWERS: number[] = (() => {
  const powers = [ONE >>> 1]; // x^1
  for (let k = 1; k < 32; k++) powers.push(multiplyModP(powers[k - 1], powers[k - 1]));
  return powers;
})();

/** x^(8·bytes) mod P. */
function shiftByBytes(bytes: number): number {
  let result = ONE;
  // 8·bytes = bytes shifted left by 3: start at x^(2^3).
  for (let k = 3, rest = bytes; rest > 0; k++, rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) result = multiplyModP(X_POWERS[k % 32], result);
  }
  return result;
}

/** The CRC-32 of A followed by B, given crc32(A), crc32(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`crc32Combine: length ${lengthB} is not a byte count`);
  return (multiplyModP(shiftByBytes(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}
