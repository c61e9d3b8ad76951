import * as pako from 'pako';

/**
 * gzip with one pinned pure-JavaScript compressor (pako, exact version in the
 * lockfile) instead of Node's zlib, whose output may change between Node
 * versions and so change layer digests. Header mtime is 0 and the OS byte is
 * fixed by pako, so the bytes depend only on the input.
 */
export function gzipDeterministic(data: Buffer): Buffer {
  return Buffer.from(pako.gzip(data, { level: 6 }));
}

export function gunzip(data: Buffer): Buffer {
  return Buffer.from(pako.ungzip(data));
}
