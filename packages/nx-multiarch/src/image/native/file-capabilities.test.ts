import { parseCapabilityText } from '../../dockerfile/run-idioms';
import { createTar, readTarEntries } from '../../oci/tar';
import { vfsCapData } from './file-capabilities';

describe('vfsCapData', () => {
  it('encodes cap_net_raw,cap_net_admin+eip as setcap does (getfattr -e hex: 0x0100000200300000003000000000000000000000)', () => {
    expect(vfsCapData(parseCapabilityText('cap_net_raw,cap_net_admin+eip')).toString('hex')).toBe('0100000200300000003000000000000000000000');
  });

  it('leaves the effective flag out for +p, and puts capabilities above 31 in the second words', () => {
    expect(vfsCapData(parseCapabilityText('cap_bpf+p')).toString('hex')).toBe('0000000200000000000000008000000000000000');
  });
});

describe('createTar with xattrs', () => {
  it('writes binary values byte for byte (bytes above 0x7f included) and the same archive every time', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0xc3, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const entries = [{ path: 'usr/sbin/tool', type: 'file' as const, mode: 0o755, content: Buffer.from('x'), xattrs: { 'security.capability': value } }];
    const tar = await createTar(entries, { mtime: 0 });
    expect((await createTar(entries, { mtime: 0 })).equals(tar)).toBe(true);
    const marker = Buffer.from(' SCHILY.xattr.security.capability=');
    const at = tar.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    expect(tar.subarray(at + marker.length, at + marker.length + value.length)).toEqual(value);
    expect(tar[at + marker.length + value.length]).toBe(0x0a);
    const read = await readTarEntries(tar);
    expect(read.find((e) => e.header.name === 'usr/sbin/tool')?.content.toString()).toBe('x');
  });
});
