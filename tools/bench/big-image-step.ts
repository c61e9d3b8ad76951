import { join } from 'node:path';
import { fail, loadImagePlugin } from './plugin';
import type { Digest, ImageIndex, ImageManifest } from '../../packages/nx-multiarch/src/bench-api-image';

/**
 * One step of the big-image proof (tools/bench/big-image.sh), one process
 * each so every step's peak memory is measured on its own:
 *
 *   big-image-step.ts build CONTEXT LAYOUT BLOB_CACHE   native engine, CONTEXT/Dockerfile, amd64
 *   big-image-step.ts push LAYOUT REGISTRY REPOSITORY   as manifest-push pushes: the blobs (streamed from
 *                                                       disk, 4 at once), the manifest, then a one-arch index
 *   big-image-step.ts unpack LAYOUT ROOT                the qemu runner's rootfs unpacker
 *
 * Prints one line: what was done, with the manifest digest.
 */
const { PLATFORMS, NativeEngine, RegistryClient, OciLayoutReader, unpackRootfs, planPush, executePush, toPlatform, DEFAULT_PUSH_CONCURRENCY } = loadImagePlugin();

async function image(layout: string): Promise<{ digest: Digest; manifest: ImageManifest; body: Buffer; reader: InstanceType<typeof OciLayoutReader> }> {
  const reader = new OciLayoutReader(layout);
  const index: ImageIndex = await reader.readIndex();
  const digest = index.manifests[0].digest;
  const body = await reader.readBlob(digest);
  return { digest, manifest: JSON.parse(body.toString('utf8')) as ImageManifest, body, reader };
}

async function main(): Promise<void> {
  const [step, a, b, c] = process.argv.slice(2);
  if (step === 'build') {
    const result = await new NativeEngine().build({
      platform: PLATFORMS.amd64,
      dockerfile: join(a, 'Dockerfile'),
      contextDir: a,
      buildArgs: {},
      labels: {},
      sourceDateEpoch: 1700000000,
      tags: ['big'],
      layoutDir: b,
      blobCacheDir: c,
    });
    console.log(`built ${result.manifest.digest} (${result.layers.map((l) => l.size).join(' + ')} bytes of layers)`);
  } else if (step === 'push') {
    const { digest, manifest, body } = await image(a);
    const blobFiles = Object.fromEntries([manifest.config, ...manifest.layers].map((blob) => [blob.digest, join(a, 'blobs', 'sha256', blob.digest.slice(7))]));
    const plan = planPush([{ arch: 'amd64', platform: toPlatform(PLATFORMS.amd64.oci), layoutDir: a, manifestBody: body, manifest, blobFiles }], {
      repository: c,
      tags: ['big'],
      perArchTags: false,
      format: 'oci',
      annotations: {},
    });
    const client = new RegistryClient({ registry: b, access: 'push', auth: 'anonymous' });
    try {
      // manifest-push's defaults: uploads at once, and every tag read back.
      await executePush(client, plan, { concurrency: DEFAULT_PUSH_CONCURRENCY, mountFrom: [], verify: true, log: () => undefined });
    } finally {
      client.close();
    }
    console.log(`pushed ${digest} (index ${plan.index.digest}) to ${b}/${c}:big`);
  } else if (step === 'unpack') {
    const { digest, manifest, reader } = await image(a);
    const config = await reader.readJson<Parameters<typeof unpackRootfs>[0]['config']>(manifest.config.digest);
    await unpackRootfs({ layoutDir: a, manifestDigest: digest, manifest, config }, b);
    console.log(`unpacked ${digest} into ${b}`);
  } else {
    throw new Error(`unknown step ${step}: build, push or unpack`);
  }
}

main().catch(fail);
