import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../src/oci/canonical-json';
import { sha256Digest } from '../../src/oci/digest';
import type { ImageManifest } from '../../src/oci/types';
import type { ManifestPushOptions } from '../../src/publish/options';
import { publishProject, type PublishResult } from '../../src/publish/publish-project';
import { RegistryClient } from '../../src/registry/client';
import { cosignManifest, cosignTag, parseDsseEnvelope, OCI_MANIFEST } from '../../src/supply-chain/cosign-objects';
import { loadPublicKey } from '../../src/supply-chain/cosign-key';
import { verifyImage } from '../../src/supply-chain/verify-image';
import { runVerifyCommand } from '../../src/supply-chain/cli';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { writeAttestedTestImages } from '../support/attested-test-images';
import { goTool } from './cosign-tools';

/**
 * manifest-push signs and attests with a key cosign generated, and cosign
 * itself verifies the result; then the failures: wrong password, unreadable
 * key, a public key that is not the signing key's half (all before anything
 * is pushed), and a tampered attestation that verify must reject.
 */
const ARCHES = ['amd64', 'arm64'] as const;
const REVISION = 'fedcba9876543210fedcba9876543210fedcba98';
const PASSWORD = 'correct horse battery staple';

let registry: RegistryServer;
let workspace: string;
let keyDir: string;
let reader: RegistryClient;

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as NodeJS.ErrnoException & { code?: number }).code as unknown as number) || 1 : 0, stdout, stderr }),
    );
  });
}

const cosign = (args: string[]) => sh(goTool('cosign'), args, { COSIGN_PASSWORD: PASSWORD, COSIGN_EXPERIMENTAL: '0', SIGSTORE_NO_CACHE: '1', TUF_ROOT: join(keyDir, 'tuf') });
// --offline keeps cosign from reaching for Sigstore's TUF root (no network but loopback in tests).
const VERIFY_FLAGS = ['--insecure-ignore-tlog=true', '--offline=true', '--allow-insecure-registry', '--allow-http-registry'];

async function push(project: string, options: ManifestPushOptions, env: NodeJS.ProcessEnv = {}): Promise<{ result: PublishResult; log: string }> {
  const lines: string[] = [];
  const result = await publishProject({
    options: { registry: registry.host, tags: ['1.0'], arches: [...ARCHES], ...options },
    project: { workspaceRoot: workspace, name: project, root: `packages/${project}` },
    env: { ...process.env, COSIGN_PASSWORD: PASSWORD, NX_MULTIARCH_REVISION: REVISION, ...env },
    log: (line) => lines.push(line),
  });
  return { result, log: lines.join('\n') };
}

async function makeProject(project: string): Promise<void> {
  await writeAttestedTestImages(workspace, project, ARCHES, { revision: REVISION });
}

beforeAll(async () => {
  registry = await startRegistry();
  workspace = await mkdtemp(join(tmpdir(), 'nxm-sign-ws-'));
  keyDir = await mkdtemp(join(tmpdir(), 'nxm-sign-keys-'));
  for (const project of ['signed', 'wrongpw', 'nokey', 'mismatch', 'tamper', 'bkit']) await makeProject(project);
  const generated = await sh(goTool('cosign'), ['generate-key-pair', '--output-key-prefix', join(keyDir, 'cosign')], { COSIGN_PASSWORD: PASSWORD });
  if (generated.code !== 0) throw new Error(`cosign generate-key-pair failed: ${generated.stderr}`);
  const other = await sh(goTool('cosign'), ['generate-key-pair', '--output-key-prefix', join(keyDir, 'other')], { COSIGN_PASSWORD: PASSWORD });
  if (other.code !== 0) throw new Error(`cosign generate-key-pair failed: ${other.stderr}`);
  reader = new RegistryClient({ registry: registry.host, auth: 'anonymous' });
}, 300_000);

afterAll(async () => {
  reader?.close();
  await registry?.stop();
  await rm(workspace, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

test('signed and attested push: cosign verify and verify-attestation accept it, our verify prints an all-OK table', async () => {
  const key = join(keyDir, 'cosign.key');
  const { result, log } = await push('signed', { signingKey: key, verifyKey: join(keyDir, 'cosign.pub') });
  // Debian's registry 2.8 has no referrers API: the OCI 1.1 tag fallback lists them.
  expect(result.signing).toMatchObject({ signaturesPushed: 3, attestationsPushed: 4, referrers: 'tag-fallback' });
  expect(log).toMatch(/verify: OK/);
  // Neither the key nor the password is ever printed.
  const keyText = await readFile(key, 'utf8');
  expect(log).not.toContain(keyText.split('\n')[1]);
  expect(log).not.toContain(PASSWORD);

  const ref = `${registry.host}/signed`;
  const pub = join(keyDir, 'cosign.pub');
  const index = await cosign(['verify', '--key', pub, ...VERIFY_FLAGS, `${ref}:1.0`]);
  expect(index.stderr).toMatch(/signatures were verified against the specified public key/);
  expect(index.code).toBe(0);
  for (const manifest of result.plan.manifests) {
    const image = `${ref}@${manifest.digest}`;
    expect((await cosign(['verify', '--key', pub, ...VERIFY_FLAGS, image])).code).toBe(0);
    const slsa = await cosign(['verify-attestation', '--key', pub, '--type', 'slsaprovenance1', ...VERIFY_FLAGS, image]);
    expect(slsa.stderr).toMatch(/signatures were verified against the specified public key/);
    expect(slsa.code).toBe(0);
    const statement = JSON.parse(Buffer.from((JSON.parse(slsa.stdout.trim().split('\n')[0]) as { payload: string }).payload, 'base64').toString('utf8')) as { subject: { digest: { sha256: string } }[] };
    expect(`sha256:${statement.subject[0].digest.sha256}`).toBe(manifest.digest);
    expect((await cosign(['verify-attestation', '--key', pub, '--type', 'spdxjson', ...VERIFY_FLAGS, image])).code).toBe(0);
  }
  const tree = await cosign(['tree', '--allow-insecure-registry', '--allow-http-registry', `${ref}@${result.plan.manifests[0].digest}`]);
  expect(tree.stdout + tree.stderr).toMatch(/Attestations for an image tag/);
  expect(tree.stdout + tree.stderr).toMatch(/Signatures for an image tag/);

  // crane, a third-party reader, finds the referrers in the fallback index of each arch manifest.
  for (const manifest of result.plan.manifests) {
    const fallback = await sh(goTool('crane'), ['manifest', '--insecure', `${ref}:${manifest.digest.replace(':', '-')}`]);
    expect(fallback.code).toBe(0);
    const listed = (JSON.parse(fallback.stdout) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
    const sig = await sh(goTool('crane'), ['digest', '--insecure', `${ref}:${manifest.digest.replace(':', '-')}.sig`]);
    const att = await sh(goTool('crane'), ['digest', '--insecure', `${ref}:${manifest.digest.replace(':', '-')}.att`]);
    expect(listed.sort()).toEqual([sig.stdout.trim(), att.stdout.trim()].sort());
  }

  // Another key does not verify.
  const wrong = await cosign(['verify', '--key', join(keyDir, 'other.pub'), ...VERIFY_FLAGS, `${ref}:1.0`]);
  expect(wrong.code).not.toBe(0);
});

test('re-pushing an image this key already signed uploads nothing for signatures or attestations', async () => {
  const { result } = await push('signed', { signingKey: join(keyDir, 'cosign.key') });
  expect(result.signing).toEqual({ signer: expect.stringMatching(/^sha256:[0-9a-f]{16}$/), referrers: 'none', signaturesPushed: 0, attestationsPushed: 0, alreadySigned: 3, alreadyAttested: 4, blobsUploaded: 0, bytesUploaded: 0 });
});

test('the key can come from an environment variable', async () => {
  const pem = await readFile(join(keyDir, 'cosign.key'), 'utf8');
  const { result } = await push('signed', { signingKeyEnv: 'TEST_SIGNING_KEY' }, { TEST_SIGNING_KEY: pem });
  expect(result.signing?.alreadySigned).toBe(3);
});

/** `nx-multiarch verify` as the bin script runs it: exit code and printed text. */
async function verifyCli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true));
  try {
    const code = await runVerifyCommand(args, process.cwd(), { ...process.env, NX_MULTIARCH_REVISION: '' });
    return { code, out: chunks.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

test('nx-multiarch verify prints a row per target and fails on a wrong revision or key', async () => {
  const ref = `${registry.host}/signed:1.0`;
  const ok = await verifyCli([ref, '--key', join(keyDir, 'cosign.pub'), '--revision', REVISION]);
  expect(ok.out).toMatch(/^TARGET +DIGEST +SIGNATURE +PROVENANCE +REVISION +SBOM +PROBLEMS$/m);
  expect(ok.out).toMatch(/^linux\/arm64 +sha256:\S+ +ok +ok +fedcba987654 +ok \(\d+ pkgs\)/m);
  expect(ok.out).toMatch(/verify: OK/);
  expect(ok.code).toBe(0);
  const wrongRevision = await verifyCli([ref, '--key', join(keyDir, 'cosign.pub'), '--revision', '1'.repeat(40)]);
  expect(wrongRevision.out).toMatch(/provenance names revision fedcba98.*, expected 1111/);
  expect(wrongRevision.code).toBe(1);
  const wrongKey = await verifyCli([ref, '--key', join(keyDir, 'other.pub')]);
  expect(wrongKey.out).toMatch(/verify: FAILED/);
  expect(wrongKey.code).toBe(1);
  const noKey = await verifyCli([ref]);
  expect(noKey.out).toMatch(/No public key to verify with.\n  hint: Pass --key/);
  expect(noKey.code).toBe(1);
});

async function nothingPushed(project: string): Promise<void> {
  expect(await reader.hasManifest(project, '1.0')).toBeUndefined();
}

test('a wrong password fails before anything is pushed, without showing the key or the password', async () => {
  const error = await push('wrongpw', { signingKey: join(keyDir, 'cosign.key') }, { COSIGN_PASSWORD: 'not it' }).catch((e: Error & { hint?: string }) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(/Wrong password for the signing key from file .*cosign\.key/);
  expect((error as { hint?: string }).hint).toMatch(/COSIGN_PASSWORD/);
  expect((error as Error).message).not.toContain('not it');
  await nothingPushed('wrongpw');
});

test('an unreadable key and a key that is not PEM fail before anything is pushed', async () => {
  const missing = await push('nokey', { signingKey: join(keyDir, 'absent.key') }).catch((e: Error) => e);
  expect((missing as Error).message).toMatch(/Cannot read the signing key .*absent\.key \(ENOENT\)/);
  await writeFile(join(keyDir, 'junk.key'), 'not a key\n');
  const junk = await push('nokey', { signingKey: join(keyDir, 'junk.key') }).catch((e: Error) => e);
  expect((junk as Error).message).toMatch(/is not a PEM file/);
  const unset = await push('nokey', { signingKeyEnv: 'NO_SUCH_VARIABLE_FOR_KEY' }).catch((e: Error) => e);
  expect((unset as Error).message).toMatch(/NO_SUCH_VARIABLE_FOR_KEY .* is empty or not set/);
  await nothingPushed('nokey');
});

test('a signing key whose public half is not the verify key fails before anything is pushed', async () => {
  const error = await push('mismatch', { signingKey: join(keyDir, 'cosign.key'), verifyKey: join(keyDir, 'other.pub') }).catch((e: Error) => e);
  expect((error as Error).message).toMatch(/is not the private half of .*other\.pub/);
  await nothingPushed('mismatch');
});

test('a tampered attestation fails our verify and cosign verify-attestation', async () => {
  const { result } = await push('tamper', { signingKey: join(keyDir, 'cosign.key') });
  const digest = result.plan.manifests[0].digest;
  const client = new RegistryClient({ registry: registry.host, access: 'push', auth: 'anonymous' });
  try {
    const att = JSON.parse((await client.getManifest('tamper', cosignTag(digest, 'att'), [OCI_MANIFEST])).body.toString('utf8')) as ImageManifest;
    // Change the provenance's revision but keep the old signature.
    const layers = [];
    for (const layer of att.layers) {
      const envelope = parseDsseEnvelope(await client.getBlob('tamper', layer.digest));
      if (!envelope) throw new Error('not a DSSE envelope');
      const payload = Buffer.from(envelope.payload, 'base64').toString('utf8').replace(REVISION, '0'.repeat(40));
      const body = Buffer.from(JSON.stringify({ ...envelope, payload: Buffer.from(payload).toString('base64') }));
      await client.pushBlob('tamper', body, sha256Digest(body), { size: body.length });
      layers.push({ ...layer, digest: sha256Digest(body), size: body.length });
    }
    const manifest = cosignManifest(layers, { mediaType: result.plan.manifests[0].mediaType, digest, size: result.plan.manifests[0].body.length });
    await client.pushBlob('tamper', manifest.config.body, manifest.config.descriptor.digest, { size: manifest.config.body.length });
    await client.putManifest('tamper', cosignTag(digest, 'att'), manifest.body, OCI_MANIFEST);
  } finally {
    client.close();
  }
  const key = await loadPublicKey(join(keyDir, 'cosign.pub'), (p) => p);
  const verdict = await verifyImage(reader, 'tamper', '1.0', key, { expectedRevision: REVISION });
  expect(verdict.ok).toBe(false);
  expect(verdict.rows.find((r) => r.digest === digest)?.problems.join(' ')).toMatch(/signature does not verify/);
  const cosignVerdict = await cosign(['verify-attestation', '--key', join(keyDir, 'cosign.pub'), '--type', 'slsaprovenance1', ...VERIFY_FLAGS, `${registry.host}/tamper@${digest}`]);
  expect(cosignVerdict.code).not.toBe(0);
  expect(canonicalJson(verdict.rows.map((r) => r.signature))).toBe(canonicalJson(['ok', 'ok', 'ok']));
});

test('attestation manifests go into the index as BuildKit puts them, and signing and verify still hold', async () => {
  const { result, log } = await push('bkit', { signingKey: join(keyDir, 'cosign.key'), verifyKey: join(keyDir, 'cosign.pub'), attestationManifests: true });
  expect(log).toMatch(/verify: OK/);
  const crane = await sh(goTool('crane'), ['manifest', '--insecure', `${registry.host}/bkit:1.0`]);
  expect(crane.code).toBe(0);
  const index = JSON.parse(crane.stdout) as { manifests: { digest: string; platform: { os: string; architecture: string }; annotations?: Record<string, string> }[] };
  const images = index.manifests.filter((m) => m.platform.os === 'linux');
  const attestations = index.manifests.filter((m) => m.platform.os === 'unknown');
  expect(images).toHaveLength(2);
  expect(attestations.map((a) => a.platform)).toEqual([{ architecture: 'unknown', os: 'unknown' }, { architecture: 'unknown', os: 'unknown' }]);
  expect(attestations.map((a) => a.annotations?.['vnd.docker.reference.type'])).toEqual(['attestation-manifest', 'attestation-manifest']);
  expect(attestations.map((a) => a.annotations?.['vnd.docker.reference.digest'])).toEqual(images.map((i) => i.digest));
  const first = JSON.parse((await sh(goTool('crane'), ['manifest', '--insecure', `${registry.host}/bkit@${attestations[0].digest}`])).stdout) as ImageManifest;
  expect(first.layers.map((l) => [l.mediaType, l.annotations?.['in-toto.io/predicate-type']])).toEqual([
    ['application/vnd.in-toto+json', 'https://slsa.dev/provenance/v1'],
    ['application/vnd.in-toto+json', 'https://spdx.dev/Document'],
  ]);
  const statement = JSON.parse((await sh(goTool('crane'), ['blob', '--insecure', `${registry.host}/bkit@${first.layers[0].digest}`])).stdout) as { subject: { digest: { sha256: string } }[] };
  expect(`sha256:${statement.subject[0].digest.sha256}`).toBe(images[0].digest);
  // Only the images are signed and attested by cosign; the index signature covers the index with the attestation entries.
  expect(result.signing).toMatchObject({ signaturesPushed: 3, attestationsPushed: 4 });
  expect((await cosign(['verify', '--key', join(keyDir, 'cosign.pub'), ...VERIFY_FLAGS, `${registry.host}/bkit:1.0`])).code).toBe(0);
});
