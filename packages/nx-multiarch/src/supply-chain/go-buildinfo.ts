import { readFileRange } from '../oci/file-source';

/**
 * A Go binary's build info (the Go version and the module list `go version -m`
 * prints), read from the binary's bytes, so an image build runs no `go`
 * process and needs no Go on the machine.
 *
 * The layout is the one Go's debug/buildinfo reads. The .go.buildinfo section
 * starts on a 16-byte boundary with a 32-byte header: the magic
 * "\xff Go buildinf:" (14 bytes), the pointer size, a flags byte, 16 bytes of
 * padding. Since Go 1.18 flag bit 2 is set and two strings follow the header,
 * each a uvarint length and its bytes: the Go version ("go1.26.8") and the
 * module info, which the linker frames with a 16-byte sentinel at each end.
 * Between the sentinels is the text `go version -m` prints (one
 * tab-separated line per path, mod, dep, => and build entry).
 * Binaries from Go before 1.18 store pointers instead; for those this returns
 * undefined and the caller asks `go version -m`.
 *
 * Written here rather than taken from npm: no maintained package reads this
 * format, and it is about forty lines.
 */
export interface GoBuildInfoText {
  /** e.g. go1.26.8 */
  goVersion: string;
  /** The module info between the sentinels; empty for a binary built outside module mode. */
  modInfo: string;
}

// Every Go binary since 1.13 has this marker at the start of its .go.buildinfo section.
export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** Build-info headers start on this boundary (Go's own search skips unaligned copies of the magic). */
export const GO_BUILDINFO_ALIGN = 16;

const HEADER_BYTES = 32;
const FLAG_INLINE_STRINGS = 0x2;
const SENTINEL_BYTES = 16;

/** A uvarint at `at`: its value and where the bytes after it start; undefined when the buffer ends first. */
function uvarint(bytes: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < bytes.length && shift < 35; shift += 7, i++) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    if (bytes[i] < 0x80) return { value, next: i + 1 };
  }
  return undefined;
}

/** The two strings after the header at `bytes[0]`; undefined when `bytes` holds less than both. */
function inlineStrings(bytes: Buffer): GoBuildInfoText | undefined {
  const version = uvarint(bytes, HEADER_BYTES);
  if (!version || version.next + version.value > bytes.length) return undefined;
  const mod = uvarint(bytes, version.next + version.value);
  if (!mod || mod.next + mod.value > bytes.length) return undefined;
  const goVersion = bytes.subarray(version.next, version.next + version.value).toString('utf8');
  const framed = bytes.subarray(mod.next, mod.next + mod.value);
  // As debug/buildinfo: the sentinels are there when the byte 17 from the end is the last line's newline.
  const modInfo = framed.length >= 2 * SENTINEL_BYTES + 1 && framed[framed.length - SENTINEL_BYTES - 1] === 0x0a ? framed.subarray(SENTINEL_BYTES, framed.length - SENTINEL_BYTES).toString('utf8') : '';
  return { goVersion, modInfo };
}

/** Whether the header at `bytes[0]` is of the inline (Go 1.18+) kind: a pointer size of 4 or 8 and the flag. */
function isInlineHeader(bytes: Buffer): boolean {
  return bytes.length >= HEADER_BYTES && (bytes[14] === 4 || bytes[14] === 8) && (bytes[15] & FLAG_INLINE_STRINGS) !== 0;
}

/** The first aligned build-info header in `bytes`, or -1. */
export function goBuildInfoOffset(bytes: Buffer): number {
  for (let at = bytes.indexOf(GO_BUILDINFO_MAGIC); at >= 0; at = bytes.indexOf(GO_BUILDINFO_MAGIC, at + 1)) {
    if (at % GO_BUILDINFO_ALIGN === 0) return at;
  }
  return -1;
}

/** The build info of a Go binary held in memory (its header at `at`, when already found); undefined when it has none of the Go 1.18+ kind. */
export function goBuildInfoOf(binary: Buffer, at = goBuildInfoOffset(binary)): GoBuildInfoText | undefined {
  if (at < 0) return undefined;
  const header = binary.subarray(at);
  return isInlineHeader(header) ? inlineStrings(header) : undefined;
}

/** How much of the file to read after a header at first: the module list of a large program fits. */
const FIRST_READ_BYTES = 256 * 1024;

/** The build info of a Go binary on disk whose aligned header is at `offset`; undefined when not of the Go 1.18+ kind. */
export async function goBuildInfoInFile(path: string, offset: number): Promise<GoBuildInfoText | undefined> {
  const first = await readFileRange(path, offset, FIRST_READ_BYTES);
  if (!isInlineHeader(first)) return undefined;
  const parsed = inlineStrings(first);
  if (parsed || first.length < FIRST_READ_BYTES) return parsed;
  // A module list longer than the first read: read exactly what the two lengths say.
  const version = uvarint(first, HEADER_BYTES);
  const mod = version && uvarint(first, version.next + version.value);
  return mod ? inlineStrings(await readFileRange(path, offset, mod.next + mod.value)) : undefined;
}
