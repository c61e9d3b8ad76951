import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Reads an OCI image layout the way a user would check one, independently of
 * the plugin's own code: index.json, the manifest and config it points at,
 * and the files of each layer.
 */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: number;
  manifests: OciDescriptor[];
}

export interface OciManifest {
  schemaVersion: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
}

export interface OciConfig {
  architecture: string;
  os: string;
  variant?: string;
  config?: { Entrypoint?: string[]; Cmd?: string[] };
}

export interface ImageLayout {
  index: OciIndex;
  manifest: OciManifest;
  config: OciConfig;
  /** Every regular file of every layer, by path without a leading slash. */
  files: Map<string, Buffer>;
}

function blob(layoutDir: string, digest: string): Buffer {
  const [algorithm, hex] = digest.split(':');
  return readFileSync(join(layoutDir, 'blobs', algorithm, hex));
}

/** Regular files of a tar stream (ustar, with pax `path` and GNU long names). */
export function tarFiles(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = tar.subarray(offset + 512, offset + 512 + size);
    longName = undefined;
    if (type === 'x') {
      longName = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === '0') {
      files.set(name.replace(/^\.?\//, ''), Buffer.from(body));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export function readImageLayout(layoutDir: string): ImageLayout {
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as OciIndex;
  if (index.manifests.length !== 1) throw new Error(`${layoutDir}/index.json lists ${index.manifests.length} manifests, expected 1`);
  const manifest = JSON.parse(blob(layoutDir, index.manifests[0].digest).toString('utf8')) as OciManifest;
  const config = JSON.parse(blob(layoutDir, manifest.config.digest).toString('utf8')) as OciConfig;
  const files = new Map<string, Buffer>();
  for (const layer of manifest.layers) {
    const data = blob(layoutDir, layer.digest);
    const tar = layer.mediaType.endsWith('+gzip') || layer.mediaType.endsWith('.gzip') ? gunzipSync(data) : data;
    for (const [path, content] of tarFiles(tar)) files.set(path, content);
  }
  return { index, manifest, config, files };
}

/** ELF class, byte order and machine of a binary; undefined when it is not ELF. */
export function elfIdentity(file: Buffer): { bits: 32 | 64; littleEndian: boolean; machine: number } | undefined {
  if (file.length < 20 || file.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const littleEndian = file[5] === 1;
  return { bits: file[4] === 2 ? 64 : 32, littleEndian, machine: littleEndian ? file.readUInt16LE(18) : file.readUInt16BE(18) };
}

/** e_machine of AArch64 in the ELF specification. */
export const EM_AARCH64 = 183;
