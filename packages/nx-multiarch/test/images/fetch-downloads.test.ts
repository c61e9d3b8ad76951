import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReleasePackage } from '../../src/cross/package-tarball';
import type { MultiarchError } from '../../src/errors';
import { busyboxBinary } from '../support/busybox';
import { validateLayout } from '../support/oci-schemas';
import { build, cleanUpTemp, imageFiles, PROXY_DOWNLOAD_DOCKERFILE, tempDir, writeFiles } from './helpers';

/**
 * A Dockerfile that downloads a release the workspace builds, the way
 * Linkerd's proxy image fetches its proxy (curl the tarball and its .txt,
 * sha256sum -c, tar -x --strip-components=1), built by the native engine
 * with the download mapped to the workspace package in
 * dist/cross/<project>/<arch>: no network, the checksum really checked,
 * every ELF file checked against the arch. Unmapped and unreadable
 * downloads are refused with the line and the way out, nothing in dist.
 * (The package is made here with the plugin's own package writer, an arm64
 * busybox standing in for the proxy binary, so no Rust build runs.)
 */
const ARCH = 'arm64';
const DOWNLOADS = { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' };

let workspace: string;
let proxyBinary: Buffer;
const out = () => join(workspace, 'dist', 'images', 'demo', ARCH);
const packageDir = (arch: string) => join(workspace, 'dist', 'cross', 'linkerd2-proxy', arch);

async function writePackage(arch: string, binary: Buffer): Promise<string> {
  const pkg = await createReleasePackage({ name: 'linkerd2-proxy', version: '0.1.0', arch, license: Buffer.from('Apache-2.0\n'), binaries: [{ name: 'linkerd2-proxy', content: binary }], mtime: 0 });
  await writeFiles(packageDir(arch), { [pkg.tarballName]: pkg.tarball, [pkg.checksumName]: pkg.checksum });
  return pkg.checksumName;
}

beforeAll(async () => {
  workspace = join(await tempDir('fetch'), 'ws');
  await writeFiles(workspace, { 'packages/demo/Dockerfile': PROXY_DOWNLOAD_DOCKERFILE });
  proxyBinary = await busyboxBinary('arm64');
  await writePackage(ARCH, proxyBinary);
}, 300_000);

afterAll(cleanUpTemp);

async function failure(extra: Parameters<typeof build>[2], arch = ARCH): Promise<MultiarchError> {
  const error = await build(workspace, arch, extra).then(
    () => undefined,
    (e: MultiarchError) => e,
  );
  expect(error).toBeDefined();
  expect(existsSync(join(workspace, 'dist', 'images', 'demo', arch))).toBe(false);
  return error as MultiarchError;
}

it("builds Linkerd's fetch stage from the workspace package: extracted, checked, the downloads removed as the RUN line says", async () => {
  const { summary, outputDir } = await build(workspace, ARCH, { downloads: DOWNLOADS });
  await validateLayout(outputDir);
  expect(summary.engine).toBe('native');
  const files = await imageFiles(outputDir);
  expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.content?.equals(proxyBinary)).toBe(true);
  expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.mode).toBe(0o755);
  expect(files.get('usr/lib/linkerd/LICENSE')?.content?.toString()).toBe('Apache-2.0\n');
  expect([...files.keys()].filter((p) => p.startsWith('build/'))).toEqual([]);
});

it('engine auto takes native for a mapped download', async () => {
  const { summary } = await build(workspace, ARCH, { downloads: DOWNLOADS, engine: 'auto' });
  expect(summary.engine).toBe('native');
});

it('refuses a download nothing maps, with its line and the downloads entry to add', async () => {
  const error = await failure({});
  expect(error.message).toMatch(/line 6: RUN: RUN downloads \$\{PROXY_URL\}\/release\/\$\{PROXY_VERSION\}\/linkerd2-proxy-\$\{PROXY_VERSION\}-\$\{TARGETARCH\}.tar.gz at build time, and no downloads entry maps it/);
  expect(error.hint).toMatch(/engine "docker"/);
  expect(error.hint).toContain('"downloads": { "<file pattern, * for any text>": "<project>:<cargo-cross|go-cross>" }');
});

it('says which target to build when the package for the arch is missing', async () => {
  const error = await failure({ downloads: DOWNLOADS }, 'arm');
  expect(error.message).toContain('packages/demo/Dockerfile line 6: https://github.invalid/linkerd/linkerd2-proxy/releases/download/release/v2.1.0/linkerd2-proxy-v2.1.0-arm.tar.gz maps to linkerd2-proxy:cargo-cross, but dist/cross/linkerd2-proxy/arm holds no package (*.tar.gz).');
  expect(error.hint).toContain('nx run linkerd2-proxy:cargo-cross --arch=arm');
});

it('refuses a package whose checksum file does not match it', async () => {
  const amd64 = await writePackage('amd64', Buffer.from('not an elf\n'));
  await writeFile(join(packageDir('amd64'), amd64), `${'0'.repeat(64)}  x.tar.gz\n`);
  const error = await failure({ downloads: DOWNLOADS }, 'amd64');
  expect(error.message).toMatch(/the package dist\/cross\/linkerd2-proxy\/amd64\/linkerd2-proxy-v0.1.0-linux-amd64.tar.gz does not match its checksum file/);
  expect(error.hint).toMatch(/rebuild it/);
});

it('refuses a fixed sha256 that names the published release, not the workspace package', async () => {
  const dockerfile = join(workspace, 'packages/demo/Dockerfile.pinned');
  await writeFile(dockerfile, `FROM scratch\nRUN curl -fsSLo /p.tgz https://h.invalid/linkerd2-proxy-v1-arm64.tar.gz && echo "${'ab'.repeat(32)}  /p.tgz" | sha256sum -c -\n`);
  const error = await failure({ downloads: DOWNLOADS, dockerfile: 'packages/demo/Dockerfile.pinned' });
  expect(error.message).toMatch(/line 2: sha256sum -c: \/p.tgz hashes to [0-9a-f]{64}, not (ab){32}/);
  expect(error.hint).toMatch(/check against the downloaded checksum file/);
});

it('refuses a download piped into a shell, saying why', async () => {
  const dockerfile = join(workspace, 'packages/demo/Dockerfile.pipe');
  await writeFile(dockerfile, 'FROM scratch\nRUN curl -fsSL https://h.invalid/linkerd2-proxy-v1-arm64.tar.gz | tar -xz -C /\n');
  const error = await failure({ downloads: DOWNLOADS, dockerfile: 'packages/demo/Dockerfile.pipe', engine: 'native' });
  expect(error.message).toMatch(/line 2: RUN: .*the download is piped into "tar -xz -C \/"/);
});

it('serves ADD <url> from the package (the tarball as it is: ADD does not extract a URL)', async () => {
  const dockerfile = join(workspace, 'packages/demo/Dockerfile.add');
  await writeFile(dockerfile, 'FROM scratch\nADD https://h.invalid/linkerd2-proxy-v1-arm64.tar.gz /opt/proxy.tar.gz\n');
  const { outputDir } = await build(workspace, ARCH, { downloads: DOWNLOADS, dockerfile: 'packages/demo/Dockerfile.add' });
  const files = await imageFiles(outputDir);
  expect(files.get('opt/proxy.tar.gz')?.content?.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
});

describe('a fetch stage on the build platform, copied from by the final stage (the proving ground proxy image shape)', () => {
  const MULTI = `FROM --platform=$BUILDPLATFORM scratch AS fetch
ARG TARGETARCH
ARG V=v2.1.0
ARG RELEASES=https://github.invalid/linkerd/linkerd2-proxy/releases/download
WORKDIR /build
RUN curl -fsSLo "linkerd2-proxy-\${V}-\${TARGETARCH}.tar.gz" "\${RELEASES}/\${V}/linkerd2-proxy-\${V}-\${TARGETARCH}.tar.gz" \\
 && curl -fsSLo "linkerd2-proxy-\${V}-\${TARGETARCH}.txt" "\${RELEASES}/\${V}/linkerd2-proxy-\${V}-\${TARGETARCH}.txt" \\
 && sha256sum -c "linkerd2-proxy-\${V}-\${TARGETARCH}.txt" \\
 && mkdir -p /build/proxy && tar -xzf "linkerd2-proxy-\${V}-\${TARGETARCH}.tar.gz" -C /build/proxy --strip-components=1

FROM scratch
COPY --from=fetch /build/proxy/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy
COPY --from=fetch /build/proxy/LICENSE /usr/lib/linkerd/LICENSE
`;

  it('builds the image from the package, nothing else of the fetch stage in it', async () => {
    await writeFile(join(workspace, 'packages/demo/Dockerfile.multi'), MULTI);
    const { outputDir, summary } = await build(workspace, ARCH, { downloads: DOWNLOADS, dockerfile: 'packages/demo/Dockerfile.multi', engine: 'auto' });
    expect(summary.engine).toBe('native');
    const files = await imageFiles(outputDir);
    expect(files.get('usr/lib/linkerd/linkerd2-proxy')?.content?.equals(proxyBinary)).toBe(true);
    expect([...files.keys()].filter((p) => p.startsWith('build'))).toEqual([]);
  });

  it('refuses a COPY --from of a path the download does not leave, naming what it does leave', async () => {
    await writeFile(join(workspace, 'packages/demo/Dockerfile.wrong'), MULTI.replace('/build/proxy/LICENSE', '/build/proxy/NOTICE'));
    const error = await failure({ downloads: DOWNLOADS, dockerfile: 'packages/demo/Dockerfile.wrong', engine: 'native' });
    expect(error.message).toMatch(/stage fetch has nothing at \/build\/proxy\/NOTICE after the download on line 6 \(it leaves .*\/build\/proxy\/LICENSE/);
  });

  it('refuses the fetch stage when nothing maps its download, with the download named', async () => {
    await writeFile(join(workspace, 'packages/demo/Dockerfile.multi'), MULTI);
    const error = await failure({ dockerfile: 'packages/demo/Dockerfile.multi', engine: 'native' });
    expect(error.message).toContain(
      'line 6: RUN: stage fetch: RUN downloads https://github.invalid/linkerd/linkerd2-proxy/releases/download/v2.1.0/linkerd2-proxy-v2.1.0-arm64.tar.gz at build time, and no downloads entry maps it to a workspace target',
    );
    expect(error.hint).toContain('"downloads": {');
  });
});
