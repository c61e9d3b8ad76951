import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutReader } from '../../src/oci/layout';
import type { ImageSummary } from '../../src/outputs/image-summary';
import { gunzip } from '../../src/oci/gzip';
import type { ImageManifest } from '../../src/oci/types';
import { PLATFORMS } from '../../src/platform/platforms';
import { readElfHeader } from '../../src/platform/elf';
import { busyboxBinary } from '../support/busybox';
import { build, cleanUpTemp, imageFiles, tempDir, tool, writeFiles } from './helpers';

/**
 * RUN idioms carried out by the native engine without emulation, against
 * the real Debian mirror of this machine's apt (private lists for arm64):
 * iptables and its closure unpacked for arm64, update-alternatives' links
 * written, setcap as a security.capability attribute read back by umoci and
 * getcap, and the packages in the SBOM. Bad input is refused with the line
 * and nothing in dist. The package cache is the test run's shared one
 * (NX_MULTIARCH_PACKAGE_CACHE, test/support/jest-env.js), so the lists and
 * .debs are fetched once per machine.
 */

const DOCKERFILE = `FROM scratch
RUN apt-get update && apt-get install -y --no-install-recommends iptables
COPY --chmod=755 bin/busybox /bin/busybox
RUN mkdir -p /run && touch /run/xtables.lock && chmod 0666 /run/xtables.lock \\
  && setcap cap_net_raw,cap_net_admin+eip /usr/sbin/xtables-legacy-multi \\
  && ln -s /usr/sbin/xtables-legacy-multi /bin/iptables-legacy-link
ENTRYPOINT ["/usr/sbin/iptables-legacy"]
`;

/** vfs_cap_data v2 for cap_net_raw,cap_net_admin+eip: revision 2 with the effective flag, permitted and inheritable bits 12 and 13. */
const NET_CAPS = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x30, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);

let workspace: string;

/** PAX records of every entry of an uncompressed tar, read byte for byte (not through tar-stream, which writes them). */
function paxRecordsByPath(tar: Buffer): Map<string, Map<string, Buffer>> {
  const out = new Map<string, Map<string, Buffer>>();
  let offset = 0;
  let pending: Map<string, Buffer> | undefined;
  while (offset + 512 <= tar.length && tar[offset] !== 0) {
    const header = tar.subarray(offset, offset + 512);
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156]);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      pending = new Map();
      let at = 0;
      while (at < body.length) {
        const space = body.indexOf(0x20, at);
        const length = Number(body.subarray(at, space).toString('latin1'));
        const record = body.subarray(space + 1, at + length - 1);
        const eq = record.indexOf(0x3d);
        pending.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
        at += length;
      }
    } else {
      const prefix = header.subarray(345, 500).toString('latin1').replace(/\0.*$/, '');
      const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/, '');
      // A PAX path record names the entry; the ustar name is then only a stand-in.
      if (pending) out.set(pending.get('path')?.toString('utf8') ?? (prefix ? `${prefix}/${name}` : name), pending);
      pending = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function lastLayerTar(layoutDir: string): Promise<Buffer> {
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  const manifest = await reader.readJson<ImageManifest>(index.manifests[0].digest);
  return gunzip(await reader.readBlob(manifest.layers[manifest.layers.length - 1].digest));
}

beforeAll(async () => {
  workspace = join(await tempDir('packages-ws'), 'ws');
  await writeFiles(workspace, {
    'packages/demo/Dockerfile': DOCKERFILE,
    'packages/demo/bin/busybox': await busyboxBinary(PLATFORMS.arm64.debianArch),
  });
}, 120_000);
afterAll(cleanUpTemp);

describe('apt-get install and setcap in a FROM scratch stage, for arm64', () => {
  let outputDir: string;
  let summary: ImageSummary;

  beforeAll(async () => {
    ({ outputDir, summary } = await build(workspace, 'arm64'));
  }, 300_000);

  it('records the resolved packages in image.json: name, version, arch, the .deb SHA256', async () => {
    const written = JSON.parse(await readFile(join(outputDir, 'image.json'), 'utf8')) as ImageSummary;
    expect(written.packages).toEqual(summary.packages);
    const iptables = written.packages?.find((p) => p.name === 'iptables');
    expect(iptables).toMatchObject({ architecture: 'arm64', version: expect.stringMatching(/^1\.8\./), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(written.packages?.find((p) => p.name === 'netbase')?.architecture).toBe('all');
    expect(written.packages?.map((p) => p.name)).toEqual([...(written.packages ?? [])].map((p) => p.name).sort());
  });

  it("unpacks iptables' arm64 closure with dpkg status files and update-alternatives' default links", async () => {
    const files = await imageFiles(outputDir);
    const multi = files.get('usr/sbin/xtables-legacy-multi');
    expect(multi?.type).toBe('file');
    expect(readElfHeader(multi?.content ?? Buffer.alloc(0))?.machine).toBe(PLATFORMS.arm64.elf.machine);
    expect(files.get('lib/ld-linux-aarch64.so.1')?.type).toBe('symlink');
    const status = files.get('var/lib/dpkg/status.d/iptables')?.content?.toString('utf8') ?? '';
    expect(status).toMatch(/^Package: iptables\nStatus: install ok installed\n/);
    expect(status).toMatch(/^Architecture: arm64$/m);
    expect(files.get('var/lib/dpkg/status.d/libc6')).toBeDefined();
    // Debian's iptables postinst: nft at priority 20 wins over legacy at 10.
    expect(files.get('usr/sbin/iptables')).toMatchObject({ type: 'symlink', linkTarget: '/etc/alternatives/iptables' });
    expect(files.get('etc/alternatives/iptables')).toMatchObject({ type: 'symlink', linkTarget: '/usr/sbin/iptables-nft' });
    expect(files.get('etc/alternatives/iptables-restore')).toMatchObject({ type: 'symlink', linkTarget: '/usr/sbin/iptables-nft-restore' });
    expect(files.get('run/xtables.lock')).toMatchObject({ type: 'file', mode: 0o666 });
    expect(files.get('bin/iptables-legacy-link')).toMatchObject({ type: 'symlink', linkTarget: '/usr/sbin/xtables-legacy-multi' });
  });

  it('writes the capability as a SCHILY.xattr.security.capability PAX record, vfs_cap_data v2 bytes', async () => {
    const pax = paxRecordsByPath(await lastLayerTar(outputDir));
    expect(pax.get('usr/sbin/xtables-legacy-multi')?.get('SCHILY.xattr.security.capability')).toEqual(NET_CAPS);
    expect([...pax.keys()]).toEqual(['usr/sbin/xtables-legacy-multi']);
  });

  it('umoci unpacks the capability onto the file, and getcap reads it', async () => {
    const bundle = join(await tempDir('packages-bundle'), 'bundle');
    await tool('umoci', ['unpack', '--image', `${outputDir}:latest`, bundle]);
    const getcap = await tool('getcap', [join(bundle, 'rootfs', 'usr/sbin/xtables-legacy-multi')]);
    expect(getcap).toMatch(/cap_net_admin,cap_net_raw[=+]eip/);
    // And the arm64 iptables runs under qemu, its libraries found without ld.so.cache.
    const rootfs = join(bundle, 'rootfs');
    const version = await tool('qemu-aarch64-static', ['-L', rootfs, join(rootfs, 'usr/sbin/iptables-legacy'), '--version']);
    expect(version.trim()).toMatch(/^iptables v1\.8\.\d+ \(legacy\)$/);
  }, 120_000);

  it('lists the installed packages, with versions, in the SBOM', async () => {
    const sbom = JSON.parse(await readFile(join(outputDir, 'sbom.spdx.json'), 'utf8')) as { packages: Array<{ name: string; versionInfo?: string }> };
    const names = sbom.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['iptables', 'libc6', 'libxtables12']));
    expect(sbom.packages.find((p) => p.name === 'iptables')?.versionInfo).toMatch(/^1\.8\./);
  });
});

describe('refusals: a clear message, a failed build, nothing in dist', () => {
  it('a package that does not exist for the target arch', async () => {
    await writeFiles(workspace, { 'packages/demo/Dockerfile': 'FROM scratch\nRUN apt-get install -y no-such-package-nxm\n' });
    await expect(build(workspace, 'arm')).rejects.toThrow('Line 2: RUN: Debian has no package "no-such-package-nxm" for armhf');
    expect(existsSync(join(workspace, 'dist', 'images', 'demo', 'arm'))).toBe(false);
  }, 120_000);

  it('a package whose maintainer script does work the image needs (base-passwd writes /etc/passwd)', async () => {
    await writeFiles(workspace, { 'packages/demo/Dockerfile': 'FROM scratch\nRUN apt-get install -y --no-install-recommends base-passwd\n' });
    const failure = build(workspace, 'amd64');
    await expect(failure).rejects.toThrow(/^Line 2: RUN: Package base-passwd \S+ \(amd64\) needs its (preinst|postinst) to work: it runs ".+"\. The native engine installs packages without running their maintainer scripts/);
    await expect(failure).rejects.toMatchObject({ hint: expect.stringContaining('packageScriptsNotNeeded') });
    expect(existsSync(join(workspace, 'dist', 'images', 'demo', 'amd64'))).toBe(false);
  }, 120_000);

  it('a RUN that is not a supported idiom: the line and the ways out', async () => {
    await writeFiles(workspace, { 'packages/demo/Dockerfile': 'FROM scratch\nCOPY bin/busybox /bin/busybox\nRUN /bin/busybox --install -s /bin\n' });
    const failure = build(workspace, 'amd64');
    await expect(failure).rejects.toThrow(/line 3: RUN: RUN in a stage of the target platform runs target code .*: \/bin\/busybox is a program that would have to run on the target platform/);
    await expect(failure).rejects.toMatchObject({ hint: expect.stringMatching(/allowEmulation: true.*engine "docker"/) });
    expect(existsSync(join(workspace, 'dist', 'images', 'demo', 'amd64'))).toBe(false);
  });

  it('a setcap of a file the stage does not hold', async () => {
    await writeFiles(workspace, { 'packages/demo/Dockerfile': 'FROM scratch\nRUN setcap cap_net_raw+ep /usr/sbin/nothing\n' });
    await expect(build(workspace, 'amd64')).rejects.toThrow('Line 2: RUN: setcap: /usr/sbin/nothing does not exist in the image.');
    expect(existsSync(join(workspace, 'dist', 'images', 'demo', 'amd64'))).toBe(false);
  });
});
