import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { canonicalJson } from '../oci/canonical-json';
import type { Digest } from '../oci/types';
import { readJsonFile, subfolders } from './json-file';

/**
 * `dist/images/<project>/<arch>/image.json`: what docker-arch-build says
 * about the image it left beside (or in a sub-folder of) that folder. The
 * builder writes it; manifest-push, the integration runner and the build
 * report read it, all through this module.
 */
export const IMAGE_SUMMARY_FILE = 'image.json';

/** The SBOM and provenance docker-arch-build writes beside image.json (src/supply-chain). */
/** The SBOM formats docker-arch-build can write: SPDX 2.3 JSON, CycloneDX 1.6 JSON, or both. */
export type SbomFormat = 'spdx' | 'cyclonedx' | 'both';

export interface SbomFile {
  file: string;
  digest: string;
  packages: number;
  format: 'spdx' | 'cyclonedx';
}

export interface AttestationFiles {
  /** The SPDX file, or the CycloneDX one when it is the only format. */
  sbom: SbomFile;
  /** The CycloneDX file, when both formats are written. */
  cyclonedx?: SbomFile;
  provenance: { file: string; digest: string; revision?: string; builderId: string };
}

export interface ImageSummary {
  project: string;
  /** The --arch value as given (it names the folder). */
  arch: string;
  /** `linux/arm/v7`. */
  platform: string;
  engine: 'native' | 'docker';
  manifestDigest: Digest;
  configDigest: Digest;
  /** Total bytes of config and layers (compressed), as a registry stores them. */
  size: number;
  layers: number;
  tags: string[];
  /** Relative path of the layout folder from the summary file. */
  layout: string;
  /**
   * The base the image was built on: the FROM image, where it was read
   * (a mirror, a substitute), and the digest of the platform's manifest.
   */
  base?: { image: string; source: string; digest?: string };
  /** The SBOM and provenance files beside image.json (absent when built with attestations off). */
  attestations?: AttestationFiles;
  /** Debian packages a RUN apt-get install put into the image (native engine), as apt resolved them. */
  packages?: InstalledDebianPackage[];
}

export interface InstalledDebianPackage {
  name: string;
  version: string;
  /** Debian architecture: the target's, or `all`. */
  architecture: string;
  /** SHA256 of the .deb, from apt's signed lists. */
  sha256: string;
}

/** Canonical JSON and a newline: the same summary gives the same bytes, so the Nx cache output is stable. */
export async function writeImageSummary(imageDir: string, summary: ImageSummary): Promise<void> {
  await writeFile(join(imageDir, IMAGE_SUMMARY_FILE), `${canonicalJson(summary)}\n`);
}

/** The summary in an image folder; undefined when there is none. Throws when it is not JSON. */
export function readImageSummaryStrict(imageDir: string): Promise<ImageSummary | undefined> {
  return readJsonFile<ImageSummary>(join(imageDir, IMAGE_SUMMARY_FILE));
}

/** The summary in an image folder, or undefined when there is none or it is unreadable (a layout made by another tool). */
export async function readImageSummary(imageDir: string): Promise<ImageSummary | undefined> {
  const summary = await readImageSummaryStrict(imageDir).catch(() => undefined);
  return summary && typeof summary === 'object' ? summary : undefined;
}

/** Every image summary under dist/images/<project>/<arch>/, with project and arch from the folder names. */
export async function readImageSummaries(workspaceRoot: string): Promise<ImageSummary[]> {
  const root = join(workspaceRoot, 'dist', 'images');
  const summaries: ImageSummary[] = [];
  for (const project of await subfolders(root)) {
    for (const arch of await subfolders(join(root, project))) {
      const summary = await readImageSummaryStrict(join(root, project, arch));
      if (summary) summaries.push({ ...summary, project, arch });
    }
  }
  return summaries;
}

/** The OCI layout folder of an image folder: where its summary points, else the folder itself. */
export async function layoutDirOf(imageDir: string): Promise<string> {
  const summary = await readImageSummary(imageDir);
  if (summary && typeof summary.layout === 'string' && summary.layout !== '') return resolve(imageDir, summary.layout);
  return imageDir;
}
