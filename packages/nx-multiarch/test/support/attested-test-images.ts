import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { outputDir } from '../../src/outputs/paths';
import type { Arch } from '../../src/platform';
import { attestImage, type AttestImageOptions } from '../../src/supply-chain/attest-image';
import { writeTestImages } from './test-images';

/**
 * A project's per-arch test images (test-images.ts) with the SBOM and
 * provenance docker-arch-build writes beside them, as the supply-chain tests
 * need them before a signed push: packages/<project>/ exists, and each arch's
 * layout under dist/images/<project>/<arch>/ is attested as a build of
 * packages/<project>/Dockerfile at `revision`.
 */
export async function writeAttestedTestImages(
  workspaceRoot: string,
  project: string,
  arches: readonly Arch[],
  options: { revision: string; sbomFormat?: AttestImageOptions['sbomFormat'] },
): Promise<void> {
  await mkdir(join(workspaceRoot, 'packages', project), { recursive: true });
  await writeTestImages(workspaceRoot, project, arches, { seed: project });
  for (const arch of arches) {
    await attestImage({
      workspaceRoot,
      layoutDir: outputDir(workspaceRoot, 'images', project, arch),
      project,
      projectRoot: `packages/${project}`,
      target: 'docker-arch-build',
      arch,
      platform: `linux/${arch}`,
      dockerfile: `packages/${project}/Dockerfile`,
      context: `packages/${project}`,
      sourceDateEpoch: 0,
      revision: options.revision,
      buildArgs: {},
      dependencyRoots: [],
      ...(options.sbomFormat === undefined ? {} : { sbomFormat: options.sbomFormat }),
      env: {},
    });
  }
}
