import { GO_BUILDINFO_MAGIC } from '../go-buildinfo';

/** Build-info headers of both kinds for unit tests; test/supply-chain/go-buildinfo.test.ts checks real binaries. */

/** A build-info header as Go 1.18+ links it: magic, pointer size 8, the inline flag, padding, then the version and the framed module info. */
export function inlineBuildInfo(goVersion: string, modInfo: string): Buffer {
  // A string as Go writes it there: its length as a uvarint (7 bits a byte, low bits first), then its bytes.
  const string = (bytes: Buffer) => {
    const length: number[] = [];
    for (let rest = bytes.length; ; rest >>= 7) {
      if (rest < 0x80) {
        length.push(rest);
        break;
      }
      length.push((rest & 0x7f) | 0x80);
    }
    return Buffer.concat([Buffer.from(length), bytes]);
  };
  const sentinel = Buffer.alloc(16, 0xa5);
  const header = Buffer.concat([GO_BUILDINFO_MAGIC, Buffer.from([8, 2]), Buffer.alloc(16)]);
  return Buffer.concat([header, string(Buffer.from(goVersion)), string(Buffer.concat([sentinel, Buffer.from(modInfo), sentinel]))]);
}
/** A build-info header of the kind before Go 1.18: pointers to the strings, no inline flag. */
export const POINTER_BUILD_INFO = Buffer.concat([GO_BUILDINFO_MAGIC, Buffer.from([8, 0]), Buffer.alloc(16, 1)]);
