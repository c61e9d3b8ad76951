import type { RegistryClient } from '../registry/client';
import type { Descriptor, Digest, ImageManifest } from '../oci/types';
import {
  cosignLayer,
  cosignManifest,
  cosignTag,
  dssePae,
  DSSE_MEDIA_TYPE,
  dsseEnvelope,
  INTOTO_PAYLOAD_TYPE,
  OCI_CONFIG,
  OCI_MANIFEST,
  parseDsseEnvelope,
  PREDICATE_TYPE_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
  type CosignLayer,
  type CosignSuffix,
} from './cosign-objects';
import { referrersMode } from './referrers';
import type { Signer } from './signer';

/**
 * Signs manifests and attaches attestations the way cosign does, so cosign
 * verifies them. Idempotent: the signatures and attestations a signer
 * already left are recognised (same payload, signature that verifies with
 * its key) and nothing is uploaded for them; other signers' layers are kept.
 *
 * Everything is signed before anything is sent, so a signing failure pushes
 * nothing; each manifest goes up after its blobs.
 */
export interface SignTarget {
  /** The manifest (index or per-arch image) being signed. */
  descriptor: Descriptor;
  label: string;
  /** in-toto statements about it (bytes as they will be signed), with their predicate types. */
  statements: { predicateType: string; payload: Buffer }[];
}

export interface SignReport {
  /** How the pushed manifests were listed as OCI 1.1 referrers: by the registry's API, or in the `sha256-<hex>` fallback index. */
  referrers: 'api' | 'tag-fallback' | 'none';
  signaturesPushed: number;
  attestationsPushed: number;
  alreadySigned: number;
  alreadyAttested: number;
  blobsUploaded: number;
  bytesUploaded: number;
}

interface Existing {
  layers: Descriptor[];
}

async function existingLayers(client: RegistryClient, repository: string, tag: string): Promise<Existing> {
  if (!(await client.hasManifest(repository, tag))) return { layers: [] };
  const response = await client.getManifest(repository, tag, [OCI_MANIFEST]);
  const manifest = JSON.parse(response.body.toString('utf8')) as ImageManifest;
  return { layers: manifest.layers ?? [] };
}

function signatureOf(layer: Descriptor): Buffer | undefined {
  const value = layer.annotations?.[SIGNATURE_ANNOTATION];
  return value ? Buffer.from(value, 'base64') : undefined;
}

async function hasOurSignature(layers: readonly Descriptor[], payload: Buffer, signer: Signer): Promise<boolean> {
  const digest = cosignLayer(SIMPLE_SIGNING_MEDIA_TYPE, payload, {}).descriptor.digest;
  return layers.some((layer) => {
    const signature = signatureOf(layer);
    return layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && layer.digest === digest && signature !== undefined && signer.recognises(payload, signature);
  });
}

async function hasOurAttestation(client: RegistryClient, repository: string, layers: readonly Descriptor[], payload: Buffer, signer: Signer): Promise<boolean> {
  for (const layer of layers) {
    if (layer.mediaType !== DSSE_MEDIA_TYPE) continue;
    const envelope = parseDsseEnvelope(await client.getBlob(repository, layer.digest));
    if (!envelope || envelope.payload !== payload.toString('base64')) continue;
    if (envelope.signatures.some((s) => signer.recognises(dssePae(envelope.payloadType, payload), Buffer.from(s.sig, 'base64')))) return true;
  }
  return false;
}

interface PendingManifest {
  tag: string;
  subject: Descriptor;
  layers: Descriptor[];
  newLayers: CosignLayer[];
  kind: CosignSuffix;
  label: string;
}

async function pushPending(client: RegistryClient, repository: string, pending: PendingManifest, report: SignReport, log: (line: string) => void): Promise<Descriptor> {
  const manifest = cosignManifest(pending.layers, pending.subject);
  for (const blob of [...pending.newLayers.map((l) => ({ digest: l.descriptor.digest, body: l.body })), { digest: manifest.config.descriptor.digest, body: manifest.config.body }]) {
    const result = await client.pushBlob(repository, blob.body, blob.digest as Digest, { size: blob.body.length });
    if (result.outcome !== 'skipped') {
      report.blobsUploaded += 1;
      report.bytesUploaded += result.bytes;
    }
  }
  await client.putManifest(repository, pending.tag, manifest.body, OCI_MANIFEST);
  report.bytesUploaded += manifest.body.length;
  log(`  ${pending.kind === 'sig' ? 'signature' : 'attestations'} ${pending.label} -> ${pending.tag}`);
  return { mediaType: OCI_MANIFEST, digest: manifest.digest, size: manifest.body.length, artifactType: OCI_CONFIG, annotations: { [REFERRER_KIND_ANNOTATION]: pending.kind } };
}

/** Marks the entries of a fallback referrers index that this code wrote, so a new push replaces them. */
const REFERRER_KIND_ANNOTATION = 'dev.nx-multiarch.cosign';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/**
 * The OCI 1.1 tag fallback for registries without the referrers API: an
 * index at tag `sha256-<hex>` of the subject listing its referrers. Entries
 * of other tools are kept; ours are replaced by the manifests just pushed.
 */
async function updateFallbackIndex(client: RegistryClient, repository: string, subject: Digest, pushed: readonly Descriptor[]): Promise<void> {
  const tag = subject.replace(':', '-');
  let entries: Descriptor[] = [];
  if (await client.hasManifest(repository, tag)) {
    const existing = JSON.parse((await client.getManifest(repository, tag, [OCI_INDEX])).body.toString('utf8')) as { manifests?: Descriptor[] };
    const replaced = new Set(pushed.map((d) => d.annotations?.[REFERRER_KIND_ANNOTATION]));
    entries = (existing.manifests ?? []).filter((d) => !replaced.has(d.annotations?.[REFERRER_KIND_ANNOTATION]));
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...entries, ...pushed] }));
  await client.putManifest(repository, tag, body, OCI_INDEX);
}

export async function signAndAttest(
  client: RegistryClient,
  repository: string,
  dockerReference: string,
  targets: readonly SignTarget[],
  signer: Signer,
  log: (line: string) => void,
): Promise<SignReport> {
  const report: SignReport = { referrers: 'none', signaturesPushed: 0, attestationsPushed: 0, alreadySigned: 0, alreadyAttested: 0, blobsUploaded: 0, bytesUploaded: 0 };
  const pending: PendingManifest[] = [];
  const extra = signer.signatureAnnotations();
  for (const target of targets) {
    const digest = target.descriptor.digest;
    const sigTag = cosignTag(digest, 'sig');
    const sigs = await existingLayers(client, repository, sigTag);
    const payload = simpleSigningPayload(dockerReference, digest);
    if (await hasOurSignature(sigs.layers, payload, signer)) {
      report.alreadySigned += 1;
    } else {
      const layer = cosignLayer(SIMPLE_SIGNING_MEDIA_TYPE, payload, { ...extra, [SIGNATURE_ANNOTATION]: (await signer.sign(payload)).toString('base64') });
      pending.push({ tag: sigTag, subject: target.descriptor, layers: [...sigs.layers, layer.descriptor], newLayers: [layer], kind: 'sig', label: target.label });
    }
    if (target.statements.length === 0) continue;
    const attTag = cosignTag(digest, 'att');
    const atts = await existingLayers(client, repository, attTag);
    const newLayers: CosignLayer[] = [];
    for (const statement of target.statements) {
      if (await hasOurAttestation(client, repository, atts.layers, statement.payload, signer)) {
        report.alreadyAttested += 1;
        continue;
      }
      const signature = await signer.sign(dssePae(INTOTO_PAYLOAD_TYPE, statement.payload));
      // cosign marks attestation layers with an empty signature annotation and the predicate type.
      newLayers.push(cosignLayer(DSSE_MEDIA_TYPE, dsseEnvelope(statement.payload, signature), { ...extra, [SIGNATURE_ANNOTATION]: '', [PREDICATE_TYPE_ANNOTATION]: statement.predicateType }));
    }
    if (newLayers.length > 0) {
      pending.push({ tag: attTag, subject: target.descriptor, layers: [...atts.layers, ...newLayers.map((l) => l.descriptor)], newLayers, kind: 'att', label: target.label });
    }
  }
  if (pending.length === 0) return report;
  // Asked once, before the first upload: a registry that refuses the API stops here with nothing signed.
  const mode = await referrersMode(client, repository, targets[0].descriptor.digest);
  report.referrers = mode;
  // Attestations first, signatures last: a reader that sees a signature finds the attestations there too.
  const pushedBySubject = new Map<Digest, Descriptor[]>();
  for (const item of [...pending.filter((p) => p.kind === 'att'), ...pending.filter((p) => p.kind === 'sig')]) {
    const descriptor = await pushPending(client, repository, item, report, log);
    if (item.kind === 'att') report.attestationsPushed += item.newLayers.length;
    else report.signaturesPushed += 1;
    pushedBySubject.set(item.subject.digest, [...(pushedBySubject.get(item.subject.digest) ?? []), descriptor]);
  }
  // The manifests carry `subject`: a registry with the referrers API lists them itself; otherwise the fallback index does.
  if (mode === 'tag-fallback') {
    for (const [subject, pushed] of pushedBySubject) await updateFallbackIndex(client, repository, subject, pushed);
  }
  return report;
}
