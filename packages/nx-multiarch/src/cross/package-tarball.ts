import { createHash } from 'node:crypto';
import { createTar } from '../oci/tar';
import { gzipDeterministic } from '../oci/gzip';

/**
 * Release packages shaped like Linkerd's proxy package:
 * `<name>-v<version>-linux-<arch>.tar.gz` holding a folder of the same name
 * with LICENSE and the binaries, and `<package>.txt` whose first field is the
 * tarball's SHA-256 (`sha256sum` format), which Linkerd's fetch step checks.
 * Pure: bytes in, bytes out, so the same inputs give the same package.
 */
export interface PackageInput {
  name: string;
  version: string;
  /** Arch name from the platform table (`amd64`, `arm64`, `arm`, …). */
  arch: string;
  license: Buffer;
  binaries: ReadonlyArray<{ name: string; content: Buffer }>;
  /** Seconds since the epoch for every entry's mtime (SOURCE_DATE_EPOCH). */
  mtime: number;
}

export interface ReleasePackage {
  /** `<name>-v<version>-linux-<arch>`: the folder inside and the file stem. */
  stem: string;
  tarballName: string;
  tarball: Buffer;
  sha256: string;
  checksumName: string;
  /** `<hex>  <tarball name>\n` */
  checksum: string;
}

export function packageStem(name: string, version: string, arch: string): string {
  const v = version.startsWith('v') ? version : `v${version}`;
  return `${name}-${v}-linux-${arch}`;
}

export async function createReleasePackage(input: PackageInput): Promise<ReleasePackage> {
  const stem = packageStem(input.name, input.version, input.arch);
  const tar = await createTar(
    [
      { path: `${stem}/LICENSE`, type: 'file', mode: 0o644, content: input.license },
      ...input.binaries.map((bin) => ({ path: `${stem}/${bin.name}`, type: 'file' as const, mode: 0o755, content: bin.content })),
    ],
    { mtime: input.mtime },
  );
  const tarball = gzipDeterministic(tar);
  const sha256 = createHash('sha256').update(tarball).digest('hex');
  const tarballName = `${stem}.tar.gz`;
  return { stem, tarballName, tarball, sha256, checksumName: `${stem}.txt`, checksum: `${sha256}  ${tarballName}\n` };
}

/**
 * Compresses a throw-away buffer before the real package is made: the first
 * call decides the compressor (oci/gzip's probe, about 25 ms) and the first
 * call of pako is about twice as slow as later ones. Called while the compiler runs in its own
 * process, so the warm-up costs no wall time. Output is discarded; the
 * package bytes do not depend on it.
 */
export function prewarmCompressor(): void {
  const sample = Buffer.alloc(256 * 1024);
  let x = 1;
  for (let i = 0; i < sample.length; i++) {
    // Machine-code-like bytes (a pseudo-random walk with runs of zeros), so deflate takes its usual paths.
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    sample[i] = i % 7 === 0 ? 0 : (x >>> 24) & 0x3f;
  }
  gzipDeterministic(sample);
}
