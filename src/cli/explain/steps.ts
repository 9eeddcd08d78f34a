// Setup steps the probes share, in the scenario language (one YAML flow map a step). Each leaves
// the fd `d` open on the device the probe is about.

export const NET = '{open: /dev/vhost-net, as: d}';
export const VSOCK = '{open: /dev/vhost-vsock, as: d}';
export const VDPA = '{open: /dev/vhost-vdpa-0, as: d}';
export const OWN = '{ioctl: VHOST_SET_OWNER, fd: d}';

/** a tap interface on /dev/net/tun, the only socket vhost-net can take here */
export const TAP = [
  '{open: /dev/net/tun, as: tap}',
  '{ioctl: TUNSETIFF, fd: tap, arg: {ifr_name: "", ifr_flags: [IFF_TAP, IFF_NO_PI]}}',
];

/** 1 MiB of guest memory as the memory table, and the rings of vq `index` inside it (user addresses) */
export function guestRings(index: number): string[] {
  return [
    '{mmap: guest, size: 1M}',
    '{ioctl: VHOST_SET_MEM_TABLE, fd: d, arg: {regions: [{guest_phys_addr: 0, memory_size: 1M, userspace_addr: $guest}]}}',
    `{ioctl: VHOST_SET_VRING_ADDR, fd: d, arg: {index: ${index}, desc_user_addr: $guest, avail_user_addr: "$guest + 0x1000", used_user_addr: "$guest + 0x2000"}}`,
  ];
}

/** vhost-net, owned, with the TX vq (1) running on a tap backend */
export const NET_RUNNING = [
  ...TAP,
  NET,
  OWN,
  ...guestRings(1),
  '{ioctl: VHOST_NET_SET_BACKEND, fd: d, arg: {index: 1, fd: $tap}}',
];

/** vhost-vdpa-0 (vdpa_sim net), owned, with shared file-backed memory `m` to map (use_va needs it) */
export const VDPA_OWNED = [VDPA, OWN, '{mmap: m, size: 64K, memfd: true}'];

/** the same, with IOTLB_MSG_V2 and IOTLB_ASID acked, so a message's asid counts */
export const VDPA_ASID = [
  VDPA,
  '{ioctl: VHOST_SET_BACKEND_FEATURES, fd: d, arg: [VHOST_BACKEND_F_IOTLB_MSG_V2, VHOST_BACKEND_F_IOTLB_ASID]}',
  OWN,
  '{mmap: m, size: 64K, memfd: true}',
];

/** an IOTLB message written to `d`; `fields` are extra vhost_iotlb_msg keys */
export function iotlb(type: string, fields = ''): string {
  return `{write: d, iotlb: {type: ${type}${fields ? `, ${fields}` : ''}}}`;
}

export const UPDATE_4K = iotlb('UPDATE', 'iova: 0, size: 4K, uaddr: $m, perm: RW');
