// include/uapi/linux/vhost.h and vhost_types.h: vhost, vhost-net, vhost-vsock and
// vhost-vdpa ioctls and the structs they take (vhost.md §2, §3).
import { type ArgShape, defineIoctl, type IoctlDef } from './ioctl-def.js';
import { struct } from './struct.js';

export const VHOST_VIRTIO = 0xaf;

export const vhost_vring_state = struct('vhost_vring_state', [
  ['index', 'u32'],
  ['num', 'u32'],
]);
export const vhost_vring_file = struct('vhost_vring_file', [
  ['index', 'u32'],
  ['fd', 's32', 'fd'],
]);
export const vhost_vring_addr = struct('vhost_vring_addr', [
  ['index', 'u32'],
  ['flags', 'u32'],
  ['desc_user_addr', 'u64', 'pointer'],
  ['used_user_addr', 'u64', 'pointer'],
  ['avail_user_addr', 'u64', 'pointer'],
  ['log_guest_addr', 'u64'],
]);
export const vhost_memory = struct('vhost_memory', [
  ['nregions', 'u32'],
  ['padding', 'u32'],
]);
export const vhost_memory_region = struct('vhost_memory_region', [
  ['guest_phys_addr', 'u64'],
  ['memory_size', 'u64'],
  ['userspace_addr', 'u64', 'pointer'],
  ['flags_padding', 'u64'],
]);
export const vhost_iotlb_msg = struct(
  'vhost_iotlb_msg',
  [
    ['iova', 'u64'],
    ['size', 'u64'],
    ['uaddr', 'u64', 'pointer'],
    ['perm', 'u8'],
    ['type', 'u8'],
  ],
  { size: 32 },
);
/** The short names scenarios give a message's `type` (VHOST_IOTLB_*; REMAP = 7 was proposed, never merged). */
export const IOTLB_TYPE_NAMES: Readonly<Record<string, number>> = {
  MISS: 1,
  UPDATE: 2,
  INVALIDATE: 3,
  ACCESS_FAIL: 4,
  BATCH_BEGIN: 5,
  BATCH_END: 6,
  REMAP: 7,
};
/** The short names of a message's `perm` (VHOST_ACCESS_*; NONE is 0). */
export const IOTLB_PERM_NAMES: Readonly<Record<string, number>> = { NONE: 0, RO: 1, WO: 2, RW: 3 };
/** struct vhost_msg and vhost_msg_v2 are both 72 bytes: a 4-byte type, a hole or asid, a 64-byte union. */
export const VHOST_MSG_SIZE = 72;
export const VHOST_MSG_IOTLB_OFFSET = 8;
export const vhost_vdpa_config = struct('vhost_vdpa_config', [
  ['off', 'u32'],
  ['len', 'u32'],
]);
export const vhost_vdpa_iova_range = struct('vhost_vdpa_iova_range', [
  ['first', 'u64'],
  ['last', 'u64'],
]);
export const vhost_worker_state = struct('vhost_worker_state', [['worker_id', 'u32']]);
export const vhost_vring_worker = struct('vhost_vring_worker', [
  ['index', 'u32'],
  ['worker_id', 'u32'],
]);
export const vhost_features_array = struct('vhost_features_array', [['count', 'u64']]);

const V = VHOST_VIRTIO;
const u64: ArgShape = { kind: 'scalar', type: 'u64' };
const u32: ArgShape = { kind: 'scalar', type: 'u32' };
const u16: ArgShape = { kind: 'scalar', type: 'u16' };
const u8: ArgShape = { kind: 'scalar', type: 'u8' };
const int: ArgShape = { kind: 'scalar', type: 's32' };
const fdArg: ArgShape = { kind: 'scalar', type: 's32', role: 'fd' };
const none: ArgShape = { kind: 'value' };
const s = (def: typeof vhost_vring_state): ArgShape => ({ kind: 'struct', def });

export const VHOST_IOCTLS: readonly IoctlDef[] = [
  defineIoctl('VHOST_GET_FEATURES', 'vhost', 'r', V, 0x00, u64),
  defineIoctl('VHOST_SET_FEATURES', 'vhost', 'w', V, 0x00, u64),
  defineIoctl('VHOST_SET_OWNER', 'vhost', 'none', V, 0x01, none),
  defineIoctl('VHOST_RESET_OWNER', 'vhost', 'none', V, 0x02, none),
  defineIoctl('VHOST_SET_MEM_TABLE', 'vhost', 'w', V, 0x03, {
    kind: 'custom',
    size: vhost_memory.size,
    layout: 'vhost_memory',
  }),
  defineIoctl('VHOST_SET_LOG_BASE', 'vhost', 'w', V, 0x04, u64),
  defineIoctl('VHOST_SET_LOG_FD', 'vhost', 'w', V, 0x07, fdArg),
  defineIoctl('VHOST_NEW_WORKER', 'vhost', 'r', V, 0x08, s(vhost_worker_state)),
  defineIoctl('VHOST_FREE_WORKER', 'vhost', 'w', V, 0x09, s(vhost_worker_state)),
  defineIoctl('VHOST_SET_VRING_NUM', 'vhost', 'w', V, 0x10, s(vhost_vring_state)),
  defineIoctl('VHOST_SET_VRING_ADDR', 'vhost', 'w', V, 0x11, s(vhost_vring_addr)),
  defineIoctl('VHOST_SET_VRING_BASE', 'vhost', 'w', V, 0x12, s(vhost_vring_state)),
  defineIoctl('VHOST_GET_VRING_BASE', 'vhost', 'rw', V, 0x12, s(vhost_vring_state)),
  defineIoctl('VHOST_SET_VRING_ENDIAN', 'vhost', 'w', V, 0x13, s(vhost_vring_state)),
  // Declared _IOW although the kernel writes the answer back (sic, vhost.h).
  defineIoctl('VHOST_GET_VRING_ENDIAN', 'vhost', 'w', V, 0x14, s(vhost_vring_state)),
  defineIoctl('VHOST_ATTACH_VRING_WORKER', 'vhost', 'w', V, 0x15, s(vhost_vring_worker)),
  defineIoctl('VHOST_GET_VRING_WORKER', 'vhost', 'rw', V, 0x16, s(vhost_vring_worker)),
  defineIoctl('VHOST_SET_VRING_KICK', 'vhost', 'w', V, 0x20, s(vhost_vring_file)),
  defineIoctl('VHOST_SET_VRING_CALL', 'vhost', 'w', V, 0x21, s(vhost_vring_file)),
  defineIoctl('VHOST_SET_VRING_ERR', 'vhost', 'w', V, 0x22, s(vhost_vring_file)),
  defineIoctl('VHOST_SET_VRING_BUSYLOOP_TIMEOUT', 'vhost', 'w', V, 0x23, s(vhost_vring_state)),
  defineIoctl('VHOST_GET_VRING_BUSYLOOP_TIMEOUT', 'vhost', 'w', V, 0x24, s(vhost_vring_state)),
  defineIoctl('VHOST_SET_BACKEND_FEATURES', 'vhost', 'w', V, 0x25, u64),
  defineIoctl('VHOST_GET_BACKEND_FEATURES', 'vhost', 'r', V, 0x26, u64),
  defineIoctl('VHOST_NEW_OWNER', 'vhost-vdpa', 'none', V, 0x27, none, { proposed: 'vhost-new-owner' }),
  defineIoctl('VHOST_NET_SET_BACKEND', 'vhost-net', 'w', V, 0x30, s(vhost_vring_file)),
  defineIoctl('VHOST_VSOCK_SET_GUEST_CID', 'vhost-vsock', 'w', V, 0x60, u64),
  defineIoctl('VHOST_VSOCK_SET_RUNNING', 'vhost-vsock', 'w', V, 0x61, int),
  defineIoctl('VHOST_VDPA_GET_DEVICE_ID', 'vhost-vdpa', 'r', V, 0x70, u32),
  defineIoctl('VHOST_VDPA_GET_STATUS', 'vhost-vdpa', 'r', V, 0x71, u8),
  defineIoctl('VHOST_VDPA_SET_STATUS', 'vhost-vdpa', 'w', V, 0x72, u8),
  defineIoctl('VHOST_VDPA_GET_CONFIG', 'vhost-vdpa', 'r', V, 0x73, {
    kind: 'custom',
    size: vhost_vdpa_config.size,
    layout: 'vhost_vdpa_config',
  }),
  defineIoctl('VHOST_VDPA_SET_CONFIG', 'vhost-vdpa', 'w', V, 0x74, {
    kind: 'custom',
    size: vhost_vdpa_config.size,
    layout: 'vhost_vdpa_config',
  }),
  defineIoctl('VHOST_VDPA_SET_VRING_ENABLE', 'vhost-vdpa', 'w', V, 0x75, s(vhost_vring_state)),
  defineIoctl('VHOST_VDPA_GET_VRING_NUM', 'vhost-vdpa', 'r', V, 0x76, u16),
  defineIoctl('VHOST_VDPA_SET_CONFIG_CALL', 'vhost-vdpa', 'w', V, 0x77, fdArg),
  defineIoctl('VHOST_VDPA_GET_IOVA_RANGE', 'vhost-vdpa', 'r', V, 0x78, s(vhost_vdpa_iova_range)),
  defineIoctl('VHOST_VDPA_GET_CONFIG_SIZE', 'vhost-vdpa', 'r', V, 0x79, u32),
  defineIoctl('VHOST_VDPA_GET_AS_NUM', 'vhost-vdpa', 'r', V, 0x7a, u32),
  defineIoctl('VHOST_VDPA_GET_VRING_GROUP', 'vhost-vdpa', 'rw', V, 0x7b, s(vhost_vring_state)),
  defineIoctl('VHOST_VDPA_SET_GROUP_ASID', 'vhost-vdpa', 'w', V, 0x7c, s(vhost_vring_state)),
  defineIoctl('VHOST_VDPA_SUSPEND', 'vhost-vdpa', 'none', V, 0x7d, none),
  defineIoctl('VHOST_VDPA_RESUME', 'vhost-vdpa', 'none', V, 0x7e, none),
  defineIoctl('VHOST_VDPA_GET_VRING_DESC_GROUP', 'vhost-vdpa', 'rw', V, 0x7f, s(vhost_vring_state)),
  defineIoctl('VHOST_VDPA_GET_VQS_COUNT', 'vhost-vdpa', 'r', V, 0x80, u32),
  defineIoctl('VHOST_VDPA_GET_GROUP_NUM', 'vhost-vdpa', 'r', V, 0x81, u32),
  defineIoctl('VHOST_VDPA_GET_VRING_SIZE', 'vhost-vdpa', 'rw', V, 0x82, s(vhost_vring_state)),
  defineIoctl('VHOST_GET_FEATURES_ARRAY', 'vhost-net', 'r', V, 0x83, s(vhost_features_array)),
  defineIoctl('VHOST_SET_FEATURES_ARRAY', 'vhost-net', 'w', V, 0x83, s(vhost_features_array)),
  defineIoctl('VHOST_SET_FORK_FROM_OWNER', 'vhost', 'w', V, 0x84, u8),
  defineIoctl('VHOST_GET_FORK_FROM_OWNER', 'vhost', 'r', V, 0x85, u8),
];

/** Looks a vhost ioctl up by name; the table is small and fixed. */
export const VHOST_BY_NAME: ReadonlyMap<string, IoctlDef> = new Map(VHOST_IOCTLS.map((d) => [d.name, d]));

export function vhostIoctl(name: string): IoctlDef {
  const d = VHOST_BY_NAME.get(name);
  if (!d) throw new Error(`internal: no vhost ioctl ${name}`);
  return d;
}
