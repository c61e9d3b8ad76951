import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzip } from '../../src/oci/gzip';
import { readTar, type ArchiveEntry } from '../../src/oci/tar';
import { buildImage, type BuildImageOptions, type BuildImageResult } from '../../src/image/build-image';
import { OciLayoutReader } from '../../src/oci/layout';
import type { ImageManifest } from '../../src/oci/types';
import { execFile } from 'node:child_process';

/** Shared set-up of the image build tests: throw-away workspaces and reading built images back. */

const made: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `nxm-${prefix}-`));
  made.push(dir);
  return dir;
}

export async function cleanUpTemp(): Promise<void> {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Writes files (path -> content) under a root, making folders. */
export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** Copies a workspace to a fresh folder at another path (for reproducibility checks), without the layer cache, so its layers are compressed anew. */
export async function copyWorkspace(from: string, prefix: string): Promise<string> {
  const to = join(await tempDir(prefix), 'a-longer-path', 'workspace');
  const layerCache = join(from, '.nx-multiarch', 'layer-cache');
  await cp(from, to, { recursive: true, verbatimSymlinks: true, filter: (source) => source !== layerCache });
  return to;
}

/**
 * A Dockerfile that fetches a linkerd2-proxy release the way Linkerd's proxy
 * image does (curl the tarball and its .txt, sha256sum -c, tar -x
 * --strip-components=1); the RUN is on line 6, which the tests' messages name.
 */
export const PROXY_DOWNLOAD_DOCKERFILE = `FROM scratch
ARG TARGETARCH
ARG PROXY_VERSION=v2.1.0
ARG PROXY_URL=https://github.invalid/linkerd/linkerd2-proxy/releases/download
WORKDIR /build
RUN curl -fsSLo "linkerd2-proxy-\${PROXY_VERSION}-\${TARGETARCH}.tar.gz" "\${PROXY_URL}/release/\${PROXY_VERSION}/linkerd2-proxy-\${PROXY_VERSION}-\${TARGETARCH}.tar.gz" \\
 && curl -fsSLo proxy.txt "\${PROXY_URL}/release/\${PROXY_VERSION}/linkerd2-proxy-\${PROXY_VERSION}-\${TARGETARCH}.txt" \\
 && sha256sum -c proxy.txt \\
 && mkdir -p /usr/lib/linkerd \\
 && tar -xzf "linkerd2-proxy-\${PROXY_VERSION}-\${TARGETARCH}.tar.gz" -C /usr/lib/linkerd --strip-components=1 \\
 && rm -f "linkerd2-proxy-\${PROXY_VERSION}-\${TARGETARCH}.tar.gz" proxy.txt
ENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]
`;

export const EPOCH = 1700000000;

/** buildImage for a test workspace with the project `demo` at packages/demo. */
export function build(workspaceRoot: string, arch: string, extra: Partial<BuildImageOptions> = {}): Promise<BuildImageResult> {
  return buildImage({ workspaceRoot, project: 'demo', projectRoot: 'packages/demo', arch, sourceDateEpoch: EPOCH, engine: 'native', ...extra });
}

/** The files of every layer of the (only) image in a layout, later layers over earlier ones. */
export async function imageFiles(layoutDir: string): Promise<Map<string, ArchiveEntry>> {
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  const manifest = await reader.readJson<ImageManifest>(index.manifests[0].digest);
  const files = new Map<string, ArchiveEntry>();
  for (const layer of manifest.layers) {
    for (const entry of await readTar(gunzip(await reader.readBlob(layer.digest)))) files.set(entry.path, entry);
  }
  return files;
}

/** Runs a tool and returns its stdout; rejects with its stderr when it fails. */
export function tool(command: string, args: string[], timeout = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** `skopeo inspect` of an OCI layout (the image of the given ref name), parsed. */
export async function skopeoInspect(layoutDir: string, ref = 'latest', config = false): Promise<Record<string, unknown>> {
  const args = ['inspect', ...(config ? ['--config'] : []), `oci:${layoutDir}:${ref}`];
  return JSON.parse(await tool('skopeo', args)) as Record<string, unknown>;
}
