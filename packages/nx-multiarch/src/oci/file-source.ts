import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MultiarchError } from '../errors';
import { asDiskFullError } from '../util/disk-full';

/**
 * A regular file whose bytes go into an archive or a layer straight from
 * disk, never whole in memory. What was seen when the file was listed (size,
 * modification time) travels with it, so a file that changes between the
 * listing and the end of its streaming is refused instead of giving a tar
 * header whose size lies or a layer whose digest matches no moment of the file.
 */
export interface FileSource {
  /** Absolute path to read. */
  path: string;
  /** Size in bytes when the file was listed: the size written in the tar header. */
  size: number;
  /** Modification time in nanoseconds when the file was listed (bigint stat, so same-size edits show). */
  mtimeNs: bigint;
}

/** Bytes kept in memory to sniff a file (ELF header, tar magic at 257, gzip magic). */
export const HEAD_BYTES = 4096;

/** Lists a file as a source: its size and mtime now, and its first bytes for sniffing. */
export async function fileSource(path: string): Promise<{ source: FileSource; head: Buffer }> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat({ bigint: true });
    const head = Buffer.alloc(Number(info.size < BigInt(HEAD_BYTES) ? info.size : BigInt(HEAD_BYTES)));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { source: { path, size: Number(info.size), mtimeNs: info.mtimeNs }, head: head.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}

/** A source for a file named by path, without a head (stat only). */
export async function statFileSource(path: string): Promise<FileSource> {
  const info = await stat(path, { bigint: true });
  return { path, size: Number(info.size), mtimeNs: info.mtimeNs };
}

export class FileChangedError extends MultiarchError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `${path} changed while it was being written into the layer (${detail}).`,
      'Something modified the file during the build (a compiler or a sync still writing it?). Let it finish, then run the build again.',
    );
    this.name = 'FileChangedError';
  }
}

function changed(source: FileSource, size: bigint, mtimeNs: bigint): string | undefined {
  if (size !== BigInt(source.size)) return `size ${source.size} bytes when listed, ${size} now`;
  if (mtimeNs !== source.mtimeNs) return 'modified after it was listed';
  return undefined;
}

/**
 * The file's bytes as they were listed, chunk by chunk: exactly `source.size`
 * bytes, and a FileChangedError (never a short or long stream) when the file's
 * size or mtime differ from the listing before or after the read.
 */
export async function* readFileSource(source: FileSource, chunkBytes = 1024 * 1024): AsyncGenerator<Buffer> {
  const handle = await open(source.path, 'r');
  try {
    const before = await handle.stat({ bigint: true });
    const early = changed(source, before.size, before.mtimeNs);
    if (early) throw new FileChangedError(source.path, early);
    let read = 0;
    if (source.size > 0) {
      const stream = createReadStream('', { fd: handle.fd, autoClose: false, start: 0, end: source.size - 1, highWaterMark: chunkBytes });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
    }
    const after = await handle.stat({ bigint: true });
    const late = changed(source, after.size, after.mtimeNs) ?? (read !== source.size ? `${read} of ${source.size} bytes could be read` : undefined);
    if (late) throw new FileChangedError(source.path, late);
  } finally {
    await handle.close();
  }
}

/** `length` bytes of a file from `offset` (fewer where it ends first). */
export async function readFileRange(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const out = Buffer.alloc(length);
    const { bytesRead } = await handle.read(out, 0, length, offset);
    return out.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The first `length` bytes of a file (fewer if it is shorter). */
export function readFileHead(path: string, length = HEAD_BYTES): Promise<Buffer> {
  return readFileRange(path, 0, length);
}

/**
 * Writes a stream (a file coming out of an archive) to a new file at `path`
 * and lists it as a source, with its first bytes for sniffing: how extracted
 * files reach a layer from disk instead of memory.
 */
export async function writeFileSource(content: Readable, path: string): Promise<{ source: FileSource; head: Buffer }> {
  const head: Buffer[] = [];
  let headBytes = 0;
  const keepHead = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (headBytes < HEAD_BYTES) {
        const piece = Buffer.from(chunk.subarray(0, HEAD_BYTES - headBytes));
        head.push(piece);
        headBytes += piece.length;
      }
      callback(null, chunk);
    },
  });
  try {
    await pipeline(content, keepHead, createWriteStream(path, { flags: 'wx' }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The partial file goes; a file that was there before (EEXIST: 'wx' refused to open it) is not ours to remove.
    if (code !== 'EEXIST') await rm(path, { force: true });
    throw asDiskFullError(error, dirname(path), {
      writing: 'extracting a file there',
      hint: 'Free space on the disk that holds TMPDIR (or point TMPDIR at a larger one), then build again.',
    });
  }
  return { source: await statFileSource(path), head: Buffer.concat(head) };
}

/** The first bytes of an entry's file, for sniffing (an ELF header): from memory, or read from disk. */
export async function headOf(file: { content?: Buffer; source?: FileSource }): Promise<Buffer> {
  if (file.source) return readFileHead(file.source.path);
  return (file.content ?? Buffer.alloc(0)).subarray(0, HEAD_BYTES);
}

/** sha256 (hex) of a source's bytes as listed, streamed. */
export async function sha256OfFileSource(source: FileSource): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readFileSource(source)) hash.update(chunk);
  return hash.digest('hex');
}
