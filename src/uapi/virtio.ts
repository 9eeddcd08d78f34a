// Feature bits, as the kernel headers define them: bit NUMBERS, not masks (the u64 a feature ioctl
// carries is the OR of 1 << bit). Sources:
//   transport  include/uapi/linux/virtio_config.h, virtio_ring.h
//   vhost      include/uapi/linux/vhost_types.h (VHOST_F_LOG_ALL, VHOST_NET_F_VIRTIO_NET_HDR)
//   net        include/uapi/linux/virtio_net.h (~v6.18: bits above 63 only reach GET/SET_FEATURES_ARRAY)
//   blk        include/uapi/linux/virtio_blk.h
//   vsock      include/uapi/linux/virtio_vsock.h (defines SEQPACKET only; the virtio spec's STREAM 0
//              and NO_IMPLIED_STREAM 2 are not in the Linux header)
//   backend    include/uapi/linux/vhost_types.h VHOST_BACKEND_F_* (VHOST_GET/SET_BACKEND_FEATURES, a
//              feature space of its own), plus two proposed bits from never-merged series.

export interface FeatureBit {
  name: string;
  bit: number;
  family: 'transport' | 'vhost' | 'net' | 'blk' | 'vsock' | 'backend';
  proposed?: boolean;
}

type Family = FeatureBit['family'];

function fam(family: Family, entries: readonly (readonly [string, number])[]): FeatureBit[] {
  return entries.map(([name, bit]) => ({ name, bit, family }));
}

const BITS: FeatureBit[] = [
  ...fam('transport', [
    ['VIRTIO_F_NOTIFY_ON_EMPTY', 24], // legacy
    ['VIRTIO_F_ANY_LAYOUT', 27], // legacy
    ['VIRTIO_RING_F_INDIRECT_DESC', 28],
    ['VIRTIO_RING_F_EVENT_IDX', 29],
    ['VIRTIO_F_VERSION_1', 32],
    ['VIRTIO_F_ACCESS_PLATFORM', 33],
    ['VIRTIO_F_RING_PACKED', 34],
    ['VIRTIO_F_IN_ORDER', 35],
    ['VIRTIO_F_ORDER_PLATFORM', 36],
    ['VIRTIO_F_SR_IOV', 37],
    ['VIRTIO_F_NOTIFICATION_DATA', 38],
    ['VIRTIO_F_NOTIF_CONFIG_DATA', 39],
    ['VIRTIO_F_RING_RESET', 40],
    ['VIRTIO_F_ADMIN_VQ', 41],
  ]),
  ...fam('vhost', [
    ['VHOST_F_LOG_ALL', 26],
    // Same bit as VIRTIO_F_ANY_LAYOUT; vhost-net only.
    ['VHOST_NET_F_VIRTIO_NET_HDR', 27],
  ]),
  ...fam('net', [
    ['VIRTIO_NET_F_CSUM', 0],
    ['VIRTIO_NET_F_GUEST_CSUM', 1],
    ['VIRTIO_NET_F_CTRL_GUEST_OFFLOADS', 2],
    ['VIRTIO_NET_F_MTU', 3],
    ['VIRTIO_NET_F_MAC', 5],
    ['VIRTIO_NET_F_GSO', 6], // legacy
    ['VIRTIO_NET_F_GUEST_TSO4', 7],
    ['VIRTIO_NET_F_GUEST_TSO6', 8],
    ['VIRTIO_NET_F_GUEST_ECN', 9],
    ['VIRTIO_NET_F_GUEST_UFO', 10],
    ['VIRTIO_NET_F_HOST_TSO4', 11],
    ['VIRTIO_NET_F_HOST_TSO6', 12],
    ['VIRTIO_NET_F_HOST_ECN', 13],
    ['VIRTIO_NET_F_HOST_UFO', 14],
    ['VIRTIO_NET_F_MRG_RXBUF', 15],
    ['VIRTIO_NET_F_STATUS', 16],
    ['VIRTIO_NET_F_CTRL_VQ', 17],
    ['VIRTIO_NET_F_CTRL_RX', 18],
    ['VIRTIO_NET_F_CTRL_VLAN', 19],
    ['VIRTIO_NET_F_CTRL_RX_EXTRA', 20],
    ['VIRTIO_NET_F_GUEST_ANNOUNCE', 21],
    ['VIRTIO_NET_F_MQ', 22],
    ['VIRTIO_NET_F_CTRL_MAC_ADDR', 23],
    ['VIRTIO_NET_F_DEVICE_STATS', 50],
    ['VIRTIO_NET_F_VQ_NOTF_COAL', 52],
    ['VIRTIO_NET_F_NOTF_COAL', 53],
    ['VIRTIO_NET_F_GUEST_USO4', 54],
    ['VIRTIO_NET_F_GUEST_USO6', 55],
    ['VIRTIO_NET_F_HOST_USO', 56],
    ['VIRTIO_NET_F_HASH_REPORT', 57],
    ['VIRTIO_NET_F_GUEST_HDRLEN', 59],
    ['VIRTIO_NET_F_RSS', 60],
    ['VIRTIO_NET_F_RSC_EXT', 61],
    ['VIRTIO_NET_F_STANDBY', 62],
    ['VIRTIO_NET_F_SPEED_DUPLEX', 63],
    // Word 1 of the 6.18 features array (VHOST_GET/SET_FEATURES_ARRAY).
    ['VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO', 65],
    ['VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM', 66],
    ['VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO', 67],
    ['VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM', 68],
  ]),
  ...fam('blk', [
    ['VIRTIO_BLK_F_BARRIER', 0], // legacy
    ['VIRTIO_BLK_F_SIZE_MAX', 1],
    ['VIRTIO_BLK_F_SEG_MAX', 2],
    ['VIRTIO_BLK_F_GEOMETRY', 4],
    ['VIRTIO_BLK_F_RO', 5],
    ['VIRTIO_BLK_F_BLK_SIZE', 6],
    ['VIRTIO_BLK_F_SCSI', 7], // legacy
    ['VIRTIO_BLK_F_FLUSH', 9], // legacy block of the header; alias VIRTIO_BLK_F_WCE
    ['VIRTIO_BLK_F_TOPOLOGY', 10],
    ['VIRTIO_BLK_F_CONFIG_WCE', 11],
    ['VIRTIO_BLK_F_MQ', 12],
    ['VIRTIO_BLK_F_DISCARD', 13],
    ['VIRTIO_BLK_F_WRITE_ZEROES', 14],
    ['VIRTIO_BLK_F_SECURE_ERASE', 16],
    ['VIRTIO_BLK_F_ZONED', 17],
  ]),
  ...fam('vsock', [['VIRTIO_VSOCK_F_SEQPACKET', 1]]),
  ...fam('backend', [
    ['VHOST_BACKEND_F_IOTLB_MSG_V2', 0x1],
    ['VHOST_BACKEND_F_IOTLB_BATCH', 0x2],
    ['VHOST_BACKEND_F_IOTLB_ASID', 0x3],
    ['VHOST_BACKEND_F_SUSPEND', 0x4],
    ['VHOST_BACKEND_F_RESUME', 0x5],
    ['VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK', 0x6],
    ['VHOST_BACKEND_F_DESC_ASID', 0x7],
    ['VHOST_BACKEND_F_IOTLB_PERSIST', 0x8],
  ]),
  // Steve Sistare's VHOST_NEW_OWNER / VHOST_IOTLB_REMAP series (2024), never merged. Bit 9 was also
  // proposed as CHANGEABLE_VQ_ADDR_IN_SUSPEND and as NOIOMMU by other series.
  { name: 'VHOST_BACKEND_F_NEW_OWNER', bit: 0x9, family: 'backend', proposed: true },
  { name: 'VHOST_BACKEND_F_IOTLB_REMAP', bit: 0xa, family: 'backend', proposed: true },
];

export const FEATURE_BITS: readonly FeatureBit[] = Object.freeze(BITS.map((b) => Object.freeze(b)));

/** Old names the headers keep for compatibility → the current name. */
export const FEATURE_ALIASES: Readonly<Record<string, string>> = {
  VIRTIO_F_IOMMU_PLATFORM: 'VIRTIO_F_ACCESS_PLATFORM',
  VIRTIO_BLK_F_WCE: 'VIRTIO_BLK_F_FLUSH',
};

const BY_NAME = new Map<string, FeatureBit>(FEATURE_BITS.map((b) => [b.name, b]));

/** A feature-bit name or alias → its entry (the canonical one for an alias); unknown → undefined. */
export function featureBit(name: string): FeatureBit | undefined {
  const canonical = Object.hasOwn(FEATURE_ALIASES, name) ? FEATURE_ALIASES[name] : name;
  return canonical === undefined ? undefined : BY_NAME.get(canonical);
}

/** The mask a feature-bit name stands for in scenario values (1 << bit), or undefined. */
export function featureMask(name: string): bigint | undefined {
  const f = featureBit(name);
  return f === undefined ? undefined : 1n << BigInt(f.bit);
}

/**
 * Names of the set bits of `mask` for display, in bit order, choosing per family (pass which families
 * apply, e.g. ['transport','vhost','vsock']); unknown bits as `BIT(n)`. Where two of the given families
 * name the same bit (27: VIRTIO_F_ANY_LAYOUT and VHOST_NET_F_VIRTIO_NET_HDR), the family listed first wins.
 */
export function featureNames(mask: bigint, families: readonly Family[]): string[] {
  if (mask < 0n) throw new RangeError('featureNames: negative mask');
  const byBit = new Map<number, string>();
  for (const family of families) {
    for (const f of FEATURE_BITS) {
      if (f.family === family && !byBit.has(f.bit)) byBit.set(f.bit, f.name);
    }
  }
  const out: string[] = [];
  for (let bit = 0, m = mask; m !== 0n; bit++, m >>= 1n) {
    if ((m & 1n) !== 0n) out.push(byBit.get(bit) ?? `BIT(${bit})`);
  }
  return out;
}
