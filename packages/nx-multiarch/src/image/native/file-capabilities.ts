import type { FileCapabilities } from '../../dockerfile/run-idioms';

/** The extended attribute the kernel reads file capabilities from. */
export const CAPABILITY_XATTR = 'security.capability';

const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

/**
 * struct vfs_cap_data, revision 2 (linux/capability.h), as setcap writes it
 * for a file: little-endian magic_etc (revision | effective flag), then
 * permitted and inheritable for capabilities 0-31, then for 32-63. 20 bytes.
 */
export function vfsCapData(caps: FileCapabilities): Buffer {
  const out = Buffer.alloc(20);
  out.writeUInt32LE((VFS_CAP_REVISION_2 | (caps.effective ? VFS_CAP_FLAGS_EFFECTIVE : 0)) >>> 0, 0);
  out.writeUInt32LE(caps.permitted.low >>> 0, 4);
  out.writeUInt32LE(caps.inheritable.low >>> 0, 8);
  out.writeUInt32LE(caps.permitted.high >>> 0, 12);
  out.writeUInt32LE(caps.inheritable.high >>> 0, 16);
  return out;
}
