import { MultiarchError } from '../errors';
import type { RegistryClient } from '../registry/client';
import type { PushPlan } from './plan';

/**
 * Reads back what the registry stored: the index under every tag, each child
 * manifest by digest and each `<tag>-<arch>` tag, and compares digests and
 * media types with the plan. A registry that rewrote or lost a document, or a
 * concurrent push of different content to the same tag, shows up here.
 */
export async function verifyPush(client: RegistryClient, plan: PushPlan): Promise<void> {
  const problems: string[] = [];
  const check = async (reference: string, digest: string, mediaType: string, what: string) => {
    const got = await client.getManifest(plan.repository, reference);
    if (got.digest !== digest) problems.push(`${what} (${reference}) is ${got.digest}, expected ${digest}`);
    else if (got.mediaType !== mediaType) problems.push(`${what} (${reference}) is served as ${got.mediaType}, expected ${mediaType}`);
  };
  for (const tag of plan.index.tags) await check(tag, plan.index.digest, plan.index.mediaType, 'the index');
  for (const manifest of plan.manifests) {
    await check(manifest.digest, manifest.digest, manifest.mediaType, `the ${manifest.arch} manifest`);
    for (const tag of manifest.tags) await check(tag, manifest.digest, manifest.mediaType, `the ${manifest.arch} manifest`);
  }
  if (problems.length > 0) {
    throw new MultiarchError(
      `${client.endpoint.host}/${plan.repository} does not hold what was pushed:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'Another push to the same tags may have run at the same time with different images; push again, or check the registry.',
    );
  }
}
