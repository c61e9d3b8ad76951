/**
 * The proxy-init image carries its arch's iptables (Debian's, unpacked by the
 * native engine without emulation) and the capabilities Linkerd's image
 * gives its binaries, as security.capability attributes in the layer.
 *
 *   nx run linkerd2-proxy-init:arch-integration --arch=arm64
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runImage, testContext } from 'nx-multiarch/integration';

const ctx = testContext();

/** vfs_cap_data v2 of cap_net_raw,cap_net_admin+eip: revision 2 with the effective flag; permitted and inheritable bits 12 and 13. */
const NET_CAPS = '0100000200300000003000000000000000000000';

/** Every file's PAX `SCHILY.xattr.security.capability`, as hex, read from the image's layers byte for byte. */
function capabilities(layoutDir: string): Map<string, string> {
  const blob = (digest: string) => readFileSync(join(layoutDir, 'blobs', ...digest.split(':')));
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString('utf8')) as { layers: Array<{ digest: string }> };
  const out = new Map<string, string>();
  for (const layer of manifest.layers) {
    const tar = gunzipSync(blob(layer.digest));
    let records = new Map<string, Buffer>();
    for (let offset = 0; offset + 512 <= tar.length && tar[offset] !== 0; ) {
      const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
      const body = tar.subarray(offset + 512, offset + 512 + size);
      if (String.fromCharCode(tar[offset + 156]) === 'x') {
        for (let at = 0; at < body.length; ) {
          const space = body.indexOf(0x20, at);
          const length = Number(body.subarray(at, space).toString('latin1'));
          const record = body.subarray(space + 1, at + length - 1);
          const eq = record.indexOf(0x3d);
          records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
          at += length;
        }
      } else {
        const path = records.get('path')?.toString('utf8') ?? tar.subarray(offset, offset + 100).toString('latin1').replace(/\0.*$/, '');
        const cap = records.get('SCHILY.xattr.security.capability');
        if (cap) out.set(path.replace(/^\.?\//, ''), cap.toString('hex'));
        records = new Map();
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
  }
  return out;
}

describe(`iptables in the linkerd2-proxy-init image on ${ctx.platform} (${ctx.runner})`, () => {
  it('runs the legacy iptables of the arch under test', async () => {
    const result = await runImage({ entrypoint: ['/usr/sbin/iptables-legacy'], args: ['--version'] });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^iptables v1\.8\.\d+ \(legacy\)$/);
  });

  it('gives the xtables binaries and proxy-init cap_net_raw,cap_net_admin+eip', () => {
    const caps = capabilities(ctx.imageLayout as string);
    expect(Object.fromEntries(caps)).toEqual({
      'usr/lib/linkerd/linkerd2-proxy-init': NET_CAPS,
      'usr/sbin/xtables-legacy-multi': NET_CAPS,
      'usr/sbin/xtables-nft-multi': NET_CAPS,
    });
  });
});
