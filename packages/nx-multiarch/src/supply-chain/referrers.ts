import { MultiarchError } from '../errors';
import type { Digest } from '../oci/types';
import type { RegistryClient } from '../registry/client';

/**
 * How a registry lists OCI 1.1 referrers (manifests whose `subject` names
 * another): by its referrers API (`GET /v2/<name>/referrers/<digest>`
 * answers an image index), or not at all, in which case the pusher keeps the
 * list itself in an index tagged `sha256-<hex>` (the spec's tag fallback).
 *
 * A registry without the API answers 404 (distribution 2.8) or 400/405; that
 * is what the fallback is for. Any other failure (401/403 by policy, 5xx) is
 * a registry that refuses the API: guessing the fallback there would leave
 * listings that readers asking the API never see, so it stops the push with
 * the reason instead.
 */
export type ReferrersMode = 'api' | 'tag-fallback';

export async function referrersMode(client: RegistryClient, repository: string, subject: Digest): Promise<ReferrersMode> {
  try {
    return (await client.getReferrers(repository, subject)) ? 'api' : 'tag-fallback';
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MultiarchError(
      `${client.endpoint.host} refused the OCI referrers API for ${repository} (${reason}), so signatures and attestations cannot be listed as referrers.`,
      'Let this account read /v2/<name>/referrers/ on the registry (or the proxy in front of it); a registry without the API should answer 404 there, and then the sha256-<hex> tag fallback is used. Nothing was signed.',
    );
  }
}
