import { writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import type { ImageIndex } from '../oci/types';
import { attestationManifest, isAttestationEntry } from '../supply-chain/index-attestations';
import { MultiarchError } from '../errors';
import { outputDir } from '../outputs/paths';
import type { ResolvedPushOptions } from './options';
import type { PlannedManifest, PushPlan } from './plan';
import type { RegistryClient } from '../registry/client';
import { loadCosignKey, loadPublicKey } from '../supply-chain/cosign-key';
import { signAndAttest, type SignReport, type SignTarget } from '../supply-chain/cosign-publish';
import { statementsFor } from '../supply-chain/push-statements';
import { KeySigner, publicKeyFingerprint, type Signer } from '../supply-chain/signer';
import { formatVerifyTable, verifyImage, type VerifyResult } from '../supply-chain/verify-image';
import { makeSystemTempDir } from '../util/system-temp';

/**
 * What manifest-push adds for the supply chain, kept out of the push itself:
 * load the signer before anything is sent (a wrong password pushes
 * nothing), sign and attest after the image is up, and verify on request.
 */
export async function prepareSigner(options: ResolvedPushOptions, workspaceRoot: string, env: NodeJS.ProcessEnv): Promise<Signer | undefined> {
  if (!options.signing) return undefined;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(workspaceRoot, p));
  const key = await loadCosignKey(options.signing, env, at);
  if (options.verifyKey) {
    // A key pair whose halves do not match would push signatures nobody can verify: refuse before pushing.
    const expected = await loadPublicKey(options.verifyKey, at);
    const given = key.publicKey.export({ format: 'der', type: 'spki' });
    if (!given.equals(expected.export({ format: 'der', type: 'spki' }))) {
      throw new MultiarchError(
        `The signing key (${publicKeyFingerprint(key.publicKey)}) is not the private half of ${options.verifyKey} (${publicKeyFingerprint(expected)}).`,
        'Sign with the cosign.key that belongs to the cosign.pub you verify with.',
      );
    }
  }
  return new KeySigner(key);
}

export async function signPushed(
  client: RegistryClient,
  plan: PushPlan,
  options: ResolvedPushOptions,
  workspaceRoot: string,
  project: string,
  signer: Signer,
  log: (line: string) => void,
): Promise<SignReport> {
  const name = `${client.endpoint.host}/${plan.repository}`;
  const targets: SignTarget[] = [{ descriptor: { mediaType: plan.index.mediaType, digest: plan.index.digest, size: plan.index.body.length }, label: 'index', statements: [] }];
  for (const manifest of imageManifests(plan)) {
    targets.push({
      descriptor: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.body.length },
      label: manifest.arch,
      statements: options.attest ? await statementsFor(outputDir(workspaceRoot, 'images', project, manifest.arch), name, manifest.digest) : [],
    });
  }
  log(`Signing with ${signer.description}`);
  const report = await signAndAttest(client, plan.repository, name, targets, signer, log);
  log(
    `Signed: ${report.signaturesPushed} new signatures, ${report.attestationsPushed} new attestations; ${report.alreadySigned} already signed, ${report.alreadyAttested} already attested (${report.blobsUploaded} blobs, ${report.bytesUploaded} bytes sent).`,
  );
  return report;
}

export async function verifyPushed(client: RegistryClient, plan: PushPlan, options: ResolvedPushOptions, workspaceRoot: string, log: (line: string) => void): Promise<VerifyResult> {
  const keyFile = options.verifyKey as string;
  const key = await loadPublicKey(keyFile, (p) => (isAbsolute(p) ? p : resolve(workspaceRoot, p)));
  const result = await verifyImage(client, plan.repository, plan.index.digest, key, { expectedRevision: options.expectedRevision, requireAttestations: options.attest });
  log(formatVerifyTable(result));
  if (!result.ok) {
    throw new MultiarchError(`Verification of ${client.endpoint.host}/${plan.repository}@${plan.index.digest} failed.`, 'See the table above for what is missing or does not verify.');
  }
  return result;
}

/**
 * The plan with BuildKit-style attestation manifests added to the index (OCI
 * format only: a Docker manifest list cannot carry the annotations). Their
 * blobs are written to a temp folder the caller removes after the push.
 * Images without an SBOM or provenance get none.
 */
export async function withAttestationManifests(plan: PushPlan, workspaceRoot: string, project: string, name: string): Promise<{ plan: PushPlan; tempDir?: string }> {
  if (plan.format !== 'oci') return { plan: { ...plan, notes: [...plan.notes, 'attestation manifests are not added: a Docker manifest list cannot carry their annotations'] } };
  const extra: { manifest: PlannedManifest; blobs: { digest: string; body: Buffer; mediaType: string }[]; descriptor: ImageIndex['manifests'][number] }[] = [];
  for (const manifest of plan.manifests) {
    const statements = await statementsFor(outputDir(workspaceRoot, 'images', project, manifest.arch), name, manifest.digest);
    if (statements.length === 0) continue;
    const att = attestationManifest(manifest.digest, statements);
    extra.push({
      manifest: { arch: manifest.arch, platform: { architecture: 'unknown', os: 'unknown' }, digest: att.descriptor.digest, mediaType: att.descriptor.mediaType, body: att.body, tags: [] },
      blobs: att.blobs.map((b) => ({ digest: b.descriptor.digest, body: b.body, mediaType: b.descriptor.mediaType })),
      descriptor: att.descriptor,
    });
  }
  if (extra.length === 0) return { plan };
  const tempDir = await makeSystemTempDir('attest');
  const blobs = [...plan.blobs];
  for (const item of extra) {
    for (const blob of item.blobs) {
      if (blobs.some((b) => b.digest === blob.digest)) continue;
      const path = join(tempDir, blob.digest.replace(':', '-'));
      await writeFile(path, blob.body);
      blobs.push({ digest: blob.digest as PlannedManifest['digest'], size: blob.body.length, mediaType: blob.mediaType, path, arches: [item.manifest.arch] });
    }
  }
  const index = JSON.parse(plan.index.body.toString('utf8')) as ImageIndex;
  const indexBody = Buffer.from(canonicalJson({ ...index, manifests: [...index.manifests, ...extra.map((e) => e.descriptor)] }));
  return {
    plan: { ...plan, blobs, manifests: [...plan.manifests, ...extra.map((e) => e.manifest)], index: { ...plan.index, body: indexBody, digest: sha256Digest(indexBody) } },
    tempDir,
  };
}

/** The per-arch image manifests of a plan, without attestation manifests. */
export function imageManifests(plan: PushPlan): PlannedManifest[] {
  return plan.manifests.filter((m) => !isAttestationEntry({ mediaType: m.mediaType, digest: m.digest, size: m.body.length, platform: m.platform }));
}
