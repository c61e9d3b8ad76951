import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest, ImageIndex } from '../../src/oci/types';
import { outputDir } from '../../src/outputs/paths';
import type { ManifestPushOptions } from '../../src/publish/options';
import { publishProject, type PublishResult } from '../../src/publish/publish-project';
import { RegistryClient } from '../../src/registry/client';
import { startReferrersRegistry, refuseReferrers, type SimpleRegistry } from '../support/referrers-registry';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { writeAttestedTestImages } from '../support/attested-test-images';
import { goTool } from './cosign-tools';
import { cycloneDxErrors, spdxSchemaErrors } from './spdx-validator';

/**
 * Signatures and attestations as OCI 1.1 referrers on both kinds of
 * registry: one with the referrers API (go-containerregistry's, from
 * tools/referrers-registry) and Debian's docker-registry 2.8 without it (the
 * `sha256-<hex>` tag fallback). cosign, a reader that is not ours, lists them
 * on both (`cosign tree --experimental-oci11` asks the API, then the
 * fallback tag). A registry that refuses the API stops the push before
 * anything is sent.
 */
const ARCHES = ['amd64', 'arm64'] as const;
const REVISION = 'aaaabbbbccccddddeeeeffff0000111122223333';
const PASSWORD = 'referrers test password';

let withApi: SimpleRegistry;
let without: RegistryServer;
let workspace: string;
let keyDir: string;

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code) || 1 : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const cosign = (args: string[]) => sh(goTool('cosign'), args, { COSIGN_PASSWORD: PASSWORD, SIGSTORE_NO_CACHE: '1', TUF_ROOT: join(keyDir, 'tuf') });
const VERIFY_FLAGS = ['--insecure-ignore-tlog=true', '--offline=true', '--allow-insecure-registry', '--allow-http-registry'];

async function push(host: string, project: string, options: ManifestPushOptions = {}): Promise<{ result: PublishResult; log: string }> {
  const lines: string[] = [];
  const result = await publishProject({
    options: { registry: host, tags: ['1.0'], arches: [...ARCHES], signingKey: join(keyDir, 'cosign.key'), ...options },
    project: { workspaceRoot: workspace, name: project, root: `packages/${project}` },
    env: { ...process.env, COSIGN_PASSWORD: PASSWORD, NX_MULTIARCH_REVISION: REVISION },
    log: (line) => lines.push(line),
  });
  return { result, log: lines.join('\n') };
}

async function makeProject(project: string, sbomFormat: 'spdx' | 'both' = 'spdx'): Promise<void> {
  await writeAttestedTestImages(workspace, project, ARCHES, { revision: REVISION, sbomFormat });
  for (const arch of ARCHES) {
    // Every SBOM pushed here passes its format's own schema validator first.
    const dir = outputDir(workspace, 'images', project, arch);
    expect(spdxSchemaErrors(JSON.parse(await readFile(join(dir, 'sbom.spdx.json'), 'utf8')))).toEqual([]);
    if (sbomFormat === 'both') expect(await cycloneDxErrors(await readFile(join(dir, 'sbom.cdx.json'), 'utf8'))).toBeUndefined();
  }
}

/** The referrers of a manifest as the registry's API lists them (undefined: no API). */
async function apiReferrers(host: string, repository: string, digest: Digest): Promise<ImageIndex | undefined> {
  const client = new RegistryClient({ registry: host, auth: 'anonymous' });
  try {
    return await client.getReferrers(repository, digest);
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  withApi = await startReferrersRegistry();
  without = await startRegistry();
  workspace = await mkdtemp(join(tmpdir(), 'nxm-referrers-ws-'));
  keyDir = await mkdtemp(join(tmpdir(), 'nxm-referrers-keys-'));
  for (const project of ['api', 'fallback', 'refused']) await makeProject(project);
  await makeProject('both', 'both');
  const generated = await sh(goTool('cosign'), ['generate-key-pair', '--output-key-prefix', join(keyDir, 'cosign')], { COSIGN_PASSWORD: PASSWORD });
  if (generated.code !== 0) throw new Error(`cosign generate-key-pair failed: ${generated.out}`);
}, 300_000);

afterAll(async () => {
  await withApi?.stop();
  await without?.stop();
  await rm(workspace, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

test('on a registry with the referrers API, the API lists the signature and the attestations and no fallback tag is written; cosign verifies and lists them', async () => {
  const { result } = await push(withApi.host, 'api', { verifyKey: join(keyDir, 'cosign.pub') });
  expect(result.signing).toMatchObject({ referrers: 'api', signaturesPushed: 3, attestationsPushed: 4 });
  const reader = new RegistryClient({ registry: withApi.host, auth: 'anonymous' });
  try {
    for (const manifest of result.plan.manifests) {
      const listed = await apiReferrers(withApi.host, 'api', manifest.digest);
      // One signature manifest and one attestation manifest, both cosign's (artifactType = cosign's config type).
      expect(listed?.manifests).toHaveLength(2);
      expect(listed?.manifests.map((m) => m.artifactType)).toEqual(['application/vnd.oci.image.config.v1+json', 'application/vnd.oci.image.config.v1+json']);
      // The spec's fallback tag is only for registries without the API.
      expect(await reader.hasManifest('api', manifest.digest.replace(':', '-'))).toBeUndefined();
    }
  } finally {
    reader.close();
  }
  const ref = `${withApi.host}/api`;
  const image = `${ref}@${result.plan.manifests[1].digest}`;
  expect((await cosign(['verify', '--key', join(keyDir, 'cosign.pub'), ...VERIFY_FLAGS, `${ref}:1.0`])).code).toBe(0);
  expect((await cosign(['verify-attestation', '--key', join(keyDir, 'cosign.pub'), '--type', 'slsaprovenance1', ...VERIFY_FLAGS, image])).code).toBe(0);
  const tree = await cosign(['tree', '--experimental-oci11', '--allow-insecure-registry', '--allow-http-registry', image]);
  expect(tree.code).toBe(0);
  for (const referrer of (await apiReferrers(withApi.host, 'api', result.plan.manifests[1].digest))?.manifests ?? []) expect(tree.out).toContain(referrer.digest);
  // A re-push finds its own signatures and attestations here too: nothing is sent, nothing new is listed.
  const again = await push(withApi.host, 'api');
  expect(again.result.signing).toMatchObject({ referrers: 'none', signaturesPushed: 0, attestationsPushed: 0, alreadySigned: 3, alreadyAttested: 4, bytesUploaded: 0 });
  expect((await apiReferrers(withApi.host, 'api', result.plan.manifests[1].digest))?.manifests).toHaveLength(2);
});

test('on Debian registry 2.8 (no referrers API) the fallback tag lists them, and cosign finds them there', async () => {
  const { result } = await push(without.host, 'fallback');
  expect(result.signing).toMatchObject({ referrers: 'tag-fallback', signaturesPushed: 3, attestationsPushed: 4 });
  const digest = result.plan.manifests[0].digest;
  expect(await apiReferrers(without.host, 'fallback', digest)).toBeUndefined();
  const fallback = await sh(goTool('crane'), ['manifest', '--insecure', `${without.host}/fallback:${digest.replace(':', '-')}`]);
  expect(fallback.code).toBe(0);
  const listed = (JSON.parse(fallback.out) as ImageIndex).manifests.map((m) => m.digest);
  expect(listed).toHaveLength(2);
  const tree = await cosign(['tree', '--experimental-oci11', '--allow-insecure-registry', '--allow-http-registry', `${without.host}/fallback@${digest}`]);
  expect(tree.code).toBe(0);
  for (const referrer of listed) expect(tree.out).toContain(referrer);
});

test('a registry that refuses the referrers API (403) stops the signed push before anything is sent, with the reason and the fix', async () => {
  const proxy = await refuseReferrers(withApi.host, 403);
  try {
    const error = (await push(proxy.host, 'refused').catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(new RegExp(`${proxy.host.replace(/\./g, '\\.')} refused the OCI referrers API for refused .*403`));
    expect(error.hint).toMatch(/should answer 404 there, and then the sha256-<hex> tag fallback is used/);
    expect(proxy.refused()).toBe(1);
    const reader = new RegistryClient({ registry: withApi.host, auth: 'anonymous' });
    try {
      expect(await reader.hasManifest('refused', '1.0')).toBeUndefined();
      expect(await reader.listTags('refused')).toEqual([]);
    } finally {
      reader.close();
    }
    // Unsigned pushes do not ask for referrers, so the same proxy takes them.
    const unsigned = await push(proxy.host, 'refused', { signingKey: undefined });
    expect(unsigned.result.signing).toBeUndefined();
    expect(proxy.refused()).toBe(1);
  } finally {
    await proxy.stop();
  }
});

test('with both SBOM formats, cosign verify-attestation accepts the SPDX and the CycloneDX attestation, and our verify counts the packages', async () => {
  const { result, log } = await push(withApi.host, 'both', { verifyKey: join(keyDir, 'cosign.pub') });
  // Per arch: provenance, SPDX and CycloneDX.
  expect(result.signing).toMatchObject({ referrers: 'api', signaturesPushed: 3, attestationsPushed: 6 });
  expect(log).toMatch(/verify: OK/);
  expect(log).toMatch(/^linux\/arm64 .* ok \(\d+ pkgs\)/m);
  for (const manifest of result.plan.manifests) {
    const image = `${withApi.host}/both@${manifest.digest}`;
    for (const type of ['spdxjson', 'cyclonedx']) {
      const verdict = await cosign(['verify-attestation', '--key', join(keyDir, 'cosign.pub'), '--type', type, ...VERIFY_FLAGS, image]);
      expect(verdict.out).toMatch(/signatures were verified against the specified public key/);
      expect(verdict.code).toBe(0);
    }
  }
});
