import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { MultiarchError } from '../errors';
import { canonicalJson } from '../oci/canonical-json';
import type { AttestationFiles, SbomFile, SbomFormat } from '../outputs/image-summary';
import { sha256Digest } from '../oci/digest';
import { findCargoLock, parseCargoLock } from './cargo-lock';
import { parseDpkgStatus, type DpkgPackage } from './dpkg-status';
import { goBinaryInfoOf, readGoBinaries, type GoBinaryInfo } from './go-modules';
import { readImageContents } from './image-contents';
import { buildProvenance, DEFAULT_BUILDER_ID } from './provenance';
import { buildSbom, sbomPackageCount } from './sbom';

/**
 * Writes the SBOM (SPDX, CycloneDX or both) and the provenance of a freshly
 * built image into its output folder, beside image.json, so they are part of
 * the task's cached output: a cache hit restores them with the image.
 */
export const SBOM_FILE = 'sbom.spdx.json';
export const CYCLONEDX_FILE = 'sbom.cdx.json';
export const PROVENANCE_FILE = 'provenance.intoto.json';

export type { AttestationFiles };

export const SBOM_FORMATS: readonly SbomFormat[] = ['spdx', 'cyclonedx', 'both'];

/** The sbomFormat option, checked before anything is built. */
export function parseSbomFormat(value: unknown): SbomFormat {
  if (value === undefined) return 'spdx';
  if (typeof value === 'string' && (SBOM_FORMATS as readonly string[]).includes(value)) return value as SbomFormat;
  throw new MultiarchError(`sbomFormat ${JSON.stringify(value)} is not a format nx-multiarch writes.`, `Set sbomFormat to one of ${SBOM_FORMATS.map((f) => `"${f}"`).join(', ')} (default "spdx").`);
}

export interface AttestImageOptions {
  workspaceRoot: string;
  layoutDir: string;
  project: string;
  projectRoot: string;
  target: string;
  arch: string;
  platform: string;
  dockerfile: string;
  context: string;
  sourceDateEpoch: number;
  revision?: string;
  source?: string;
  buildArgs: Record<string, string>;
  builderId?: string;
  /** Which SBOM files to write (default spdx). */
  sbomFormat?: SbomFormat;
  /** Workspace-relative roots of the projects whose outputs were staged in (their lockfiles are dependencies). */
  dependencyRoots: string[];
  env: NodeJS.ProcessEnv;
}

function toolVersion(): string {
  // The plugin's package.json sits two folders up from both src/supply-chain and dist/supply-chain.
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** go.sum files: the nearest one at or above each root, inside the workspace. */
async function findGoSum(workspaceRoot: string, projectRoot: string): Promise<{ path: string; text: string } | undefined> {
  let dir = join(workspaceRoot, projectRoot);
  for (;;) {
    const text = await readFile(join(dir, 'go.sum'), 'utf8').catch(() => undefined);
    if (text !== undefined) return { path: relative(workspaceRoot, join(dir, 'go.sum')).split(sep).join('/'), text };
    const rel = relative(workspaceRoot, dir);
    if (rel === '' || rel.startsWith('..')) return undefined;
    dir = dirname(dir);
  }
}

export async function attestImage(options: AttestImageOptions): Promise<AttestationFiles> {
  const contents = await readImageContents(options.layoutDir);
  const goCopies = new Map<string, string>();
  const dpkg: DpkgPackage[] = [];
  const rustc: string[] = [];
  const goBinaries: GoBinaryInfo[] = [];
  try {
    for (const [path, file] of contents.files) {
      if (file.dpkgStatus !== undefined) dpkg.push(...parseDpkgStatus(file.dpkgStatus));
      if (file.rustcVersion) rustc.push(file.rustcVersion);
      if (file.goBuildInfo) goBinaries.push(goBinaryInfoOf(file.goBuildInfo, path));
      if (file.goBinary) goCopies.set(path, file.goBinary);
    }
    goBinaries.push(...(await readGoBinaries(goCopies, options.env)));
    goBinaries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  } finally {
    await contents.dispose();
  }
  dpkg.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));

  const roots = [...new Set([options.projectRoot, ...options.dependencyRoots])].sort();
  const cargoLocks = new Map<string, string>();
  const goSums = new Map<string, string>();
  for (const root of roots) {
    const lock = await findCargoLock(options.workspaceRoot, root);
    if (lock) cargoLocks.set(lock.path, lock.text);
    const sum = await findGoSum(options.workspaceRoot, root);
    if (sum) goSums.set(sum.path, sum.text);
  }
  const base = contents.baseDigest ? { digest: contents.baseDigest, ...(contents.baseName ? { name: contents.baseName } : {}) } : undefined;
  const version = toolVersion();

  const sbom = buildSbom({
    project: options.project,
    arch: options.arch,
    platform: options.platform,
    manifestDigest: contents.manifest.digest,
    sourceDateEpoch: options.sourceDateEpoch,
    toolVersion: version,
    base,
    goBinaries,
    cargoLocks: [...cargoLocks].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, text]) => ({ path, packages: parseCargoLock(text) })),
    dpkg,
  });
  const builderId = options.builderId ?? options.env.NX_MULTIARCH_BUILDER_ID ?? DEFAULT_BUILDER_ID;
  const toolchains: Record<string, string[]> = {};
  if (goBinaries.length > 0) toolchains.go = goBinaries.map((b) => b.goVersion);
  if (rustc.length > 0) toolchains.rustc = rustc;
  const provenance = buildProvenance({
    project: options.project,
    target: options.target,
    arch: options.arch,
    platform: options.platform,
    dockerfile: options.dockerfile,
    context: options.context,
    manifestDigest: contents.manifest.digest,
    builderId,
    toolVersion: version,
    revision: options.revision,
    source: options.source,
    nxTaskHash: options.env.NX_TASK_HASH || undefined,
    base,
    lockfiles: [...cargoLocks, ...goSums].map(([path, text]) => ({ path, sha256: createHash('sha256').update(text).digest('hex') })),
    toolchains,
    buildArgs: options.buildArgs,
  });

  const format = options.sbomFormat ?? 'spdx';
  const files: SbomFile[] = [];
  if (format !== 'cyclonedx') {
    const bytes = `${canonicalJson(sbom)}\n`;
    await writeFile(join(options.layoutDir, SBOM_FILE), bytes);
    files.push({ file: SBOM_FILE, digest: sha256Digest(bytes), packages: sbomPackageCount(sbom), format: 'spdx' });
  }
  if (format !== 'spdx') {
    // The CycloneDX library (and the JSON validators it loads) only where a CycloneDX SBOM is asked for: tens of ms per task process.
    const { cycloneDxFromSpdx } = await import('./cyclonedx');
    const cdx = cycloneDxFromSpdx(sbom, version);
    await writeFile(join(options.layoutDir, CYCLONEDX_FILE), cdx.bytes);
    files.push({ file: CYCLONEDX_FILE, digest: sha256Digest(cdx.bytes), packages: cdx.components, format: 'cyclonedx' });
  }
  const provenanceBytes = `${canonicalJson(provenance)}\n`;
  await writeFile(join(options.layoutDir, PROVENANCE_FILE), provenanceBytes);
  return {
    sbom: files[0],
    ...(files[1] ? { cyclonedx: files[1] } : {}),
    provenance: { file: PROVENANCE_FILE, digest: sha256Digest(provenanceBytes), ...(options.revision ? { revision: options.revision } : {}), builderId },
  };
}
