// Named values that stand for themselves in scenario values and output: masks and plain values exactly
// as the kernel headers define them (x86-64). Feature bits, which the headers define as bit numbers but
// scenario values use as masks, live in virtio.ts, not here.

type Entry = readonly [name: string, value: number | bigint];

const VIRTIO: Entry[] = [
  // include/uapi/linux/virtio_config.h: the device status byte
  ['VIRTIO_CONFIG_S_ACKNOWLEDGE', 0x1],
  ['VIRTIO_CONFIG_S_DRIVER', 0x2],
  ['VIRTIO_CONFIG_S_DRIVER_OK', 0x4],
  ['VIRTIO_CONFIG_S_FEATURES_OK', 0x8],
  ['VIRTIO_CONFIG_S_NEEDS_RESET', 0x40],
  ['VIRTIO_CONFIG_S_FAILED', 0x80],
  // include/uapi/linux/virtio_ids.h (VHOST_VDPA_GET_DEVICE_ID)
  ['VIRTIO_ID_NET', 1],
  ['VIRTIO_ID_BLOCK', 2],
  ['VIRTIO_ID_CONSOLE', 3],
  ['VIRTIO_ID_RNG', 4],
  ['VIRTIO_ID_BALLOON', 5],
  ['VIRTIO_ID_SCSI', 8],
  ['VIRTIO_ID_9P', 9],
  ['VIRTIO_ID_GPU', 16],
  ['VIRTIO_ID_INPUT', 18],
  ['VIRTIO_ID_VSOCK', 19],
  ['VIRTIO_ID_CRYPTO', 20],
  ['VIRTIO_ID_IOMMU', 23],
  ['VIRTIO_ID_MEM', 24],
  ['VIRTIO_ID_SOUND', 25],
  ['VIRTIO_ID_FS', 26],
  ['VIRTIO_ID_PMEM', 27],
  // include/uapi/linux/virtio_net.h: virtio_net_config.status
  ['VIRTIO_NET_S_LINK_UP', 1],
  ['VIRTIO_NET_S_ANNOUNCE', 2],
];

const VHOST: Entry[] = [
  // include/uapi/linux/vhost_types.h
  ['VHOST_ACCESS_RO', 0x1],
  ['VHOST_ACCESS_WO', 0x2],
  ['VHOST_ACCESS_RW', 0x3],
  ['VHOST_IOTLB_MISS', 1],
  ['VHOST_IOTLB_UPDATE', 2],
  ['VHOST_IOTLB_INVALIDATE', 3],
  ['VHOST_IOTLB_ACCESS_FAIL', 4],
  ['VHOST_IOTLB_BATCH_BEGIN', 5],
  ['VHOST_IOTLB_BATCH_END', 6],
  ['VHOST_IOTLB_REMAP', 7], // proposed, never merged (Sistare's VHOST_IOTLB_REMAP series)
  ['VHOST_IOTLB_MSG', 0x1],
  ['VHOST_IOTLB_MSG_V2', 0x2],
  ['VHOST_VRING_F_LOG', 0],
  ['VHOST_PAGE_SIZE', 0x1000],
  // include/uapi/linux/vhost.h
  ['VHOST_FILE_UNBIND', -1],
  ['VHOST_VRING_LITTLE_ENDIAN', 0],
  ['VHOST_VRING_BIG_ENDIAN', 1],
];

const VSOCK: Entry[] = [
  // include/uapi/linux/vm_sockets.h
  ['VMADDR_CID_ANY', 0xffffffff], // -1U
  ['VMADDR_CID_HYPERVISOR', 0],
  ['VMADDR_CID_LOCAL', 1],
  ['VMADDR_CID_HOST', 2],
  ['VMADDR_PORT_ANY', 0xffffffff], // -1U
];

const TUN: Entry[] = [
  // include/uapi/linux/if_tun.h: TUNSETIFF flags
  ['IFF_TUN', 0x0001],
  ['IFF_TAP', 0x0002],
  ['IFF_NAPI', 0x0010],
  ['IFF_NAPI_FRAGS', 0x0020],
  ['IFF_NO_CARRIER', 0x0040],
  ['IFF_MULTI_QUEUE', 0x0100],
  ['IFF_ATTACH_QUEUE', 0x0200],
  ['IFF_DETACH_QUEUE', 0x0400],
  ['IFF_PERSIST', 0x0800],
  ['IFF_NO_PI', 0x1000],
  ['IFF_ONE_QUEUE', 0x2000],
  ['IFF_VNET_HDR', 0x4000],
  ['IFF_TUN_EXCL', 0x8000],
  ['IFF_NOFILTER', 0x1000], // TUNSETTXFILTER flag; same value as IFF_NO_PI
  // TUNSETOFFLOAD
  ['TUN_F_CSUM', 0x01],
  ['TUN_F_TSO4', 0x02],
  ['TUN_F_TSO6', 0x04],
  ['TUN_F_TSO_ECN', 0x08],
  ['TUN_F_UFO', 0x10],
  ['TUN_F_USO4', 0x20],
  ['TUN_F_USO6', 0x40],
];

const FILE: Entry[] = [
  // include/uapi/asm-generic/fcntl.h (x86-64 uses the generic values)
  ['O_RDONLY', 0],
  ['O_WRONLY', 0o1],
  ['O_RDWR', 0o2],
  ['O_CREAT', 0o100],
  ['O_EXCL', 0o200],
  ['O_NOCTTY', 0o400],
  ['O_TRUNC', 0o1000],
  ['O_APPEND', 0o2000],
  ['O_NONBLOCK', 0o4000],
  ['O_DSYNC', 0o10000],
  ['O_DIRECT', 0o40000],
  ['O_DIRECTORY', 0o200000],
  ['O_NOFOLLOW', 0o400000],
  ['O_NOATIME', 0o1000000],
  ['O_CLOEXEC', 0o2000000],
  ['O_SYNC', 0o4010000], // __O_SYNC | O_DSYNC
  ['O_PATH', 0o10000000],
  // include/uapi/asm-generic/poll.h
  ['POLLIN', 0x0001],
  ['POLLPRI', 0x0002],
  ['POLLOUT', 0x0004],
  ['POLLERR', 0x0008],
  ['POLLHUP', 0x0010],
  ['POLLNVAL', 0x0020],
  ['POLLRDNORM', 0x0040],
  ['POLLRDBAND', 0x0080],
  ['POLLWRNORM', 0x0100],
  ['POLLWRBAND', 0x0200],
  ['POLLMSG', 0x0400],
  ['POLLRDHUP', 0x2000],
  // include/uapi/linux/eventfd.h
  ['EFD_SEMAPHORE', 0x1],
  ['EFD_NONBLOCK', 0o4000], // O_NONBLOCK
  ['EFD_CLOEXEC', 0o2000000], // O_CLOEXEC
];

const VFIO: Entry[] = [
  // include/uapi/linux/vfio.h: VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU
  ['VFIO_API_VERSION', 0],
  ['VFIO_TYPE1_IOMMU', 1],
  ['VFIO_SPAPR_TCE_IOMMU', 2],
  ['VFIO_TYPE1v2_IOMMU', 3],
  ['VFIO_DMA_CC_IOMMU', 4],
  ['VFIO_EEH', 5],
  ['VFIO_TYPE1_NESTING_IOMMU', 6], // renamed __VFIO_RESERVED_TYPE1_NESTING_IOMMU in later headers
  ['VFIO_SPAPR_TCE_v2_IOMMU', 7],
  ['VFIO_NOIOMMU_IOMMU', 8],
  ['VFIO_UNMAP_ALL', 9],
  ['VFIO_UPDATE_VADDR', 10],
  // struct vfio_group_status
  ['VFIO_GROUP_FLAGS_VIABLE', 1 << 0],
  ['VFIO_GROUP_FLAGS_CONTAINER_SET', 1 << 1],
  // struct vfio_device_info
  ['VFIO_DEVICE_FLAGS_RESET', 1 << 0],
  ['VFIO_DEVICE_FLAGS_PCI', 1 << 1],
  ['VFIO_DEVICE_FLAGS_PLATFORM', 1 << 2],
  ['VFIO_DEVICE_FLAGS_AMBA', 1 << 3],
  ['VFIO_DEVICE_FLAGS_CCW', 1 << 4],
  ['VFIO_DEVICE_FLAGS_AP', 1 << 5],
  ['VFIO_DEVICE_FLAGS_FSL_MC', 1 << 6],
  ['VFIO_DEVICE_FLAGS_CAPS', 1 << 7],
  ['VFIO_DEVICE_FLAGS_CDX', 1 << 8],
  ['VFIO_DEVICE_INFO_CAP_ZPCI_BASE', 1],
  ['VFIO_DEVICE_INFO_CAP_ZPCI_GROUP', 2],
  ['VFIO_DEVICE_INFO_CAP_ZPCI_UTIL', 3],
  ['VFIO_DEVICE_INFO_CAP_ZPCI_PFIP', 4],
  ['VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP', 5],
  // struct vfio_region_info
  ['VFIO_REGION_INFO_FLAG_READ', 1 << 0],
  ['VFIO_REGION_INFO_FLAG_WRITE', 1 << 1],
  ['VFIO_REGION_INFO_FLAG_MMAP', 1 << 2],
  ['VFIO_REGION_INFO_FLAG_CAPS', 1 << 3],
  ['VFIO_REGION_INFO_CAP_SPARSE_MMAP', 1],
  ['VFIO_REGION_INFO_CAP_TYPE', 2],
  ['VFIO_REGION_INFO_CAP_MSIX_MAPPABLE', 3],
  // struct vfio_irq_info / vfio_irq_set
  ['VFIO_IRQ_INFO_EVENTFD', 1 << 0],
  ['VFIO_IRQ_INFO_MASKABLE', 1 << 1],
  ['VFIO_IRQ_INFO_AUTOMASKED', 1 << 2],
  ['VFIO_IRQ_INFO_NORESIZE', 1 << 3],
  ['VFIO_IRQ_SET_DATA_NONE', 1 << 0],
  ['VFIO_IRQ_SET_DATA_BOOL', 1 << 1],
  ['VFIO_IRQ_SET_DATA_EVENTFD', 1 << 2],
  ['VFIO_IRQ_SET_ACTION_MASK', 1 << 3],
  ['VFIO_IRQ_SET_ACTION_UNMASK', 1 << 4],
  ['VFIO_IRQ_SET_ACTION_TRIGGER', 1 << 5],
  // vfio-pci region and irq indexes (enums)
  ['VFIO_PCI_BAR0_REGION_INDEX', 0],
  ['VFIO_PCI_BAR1_REGION_INDEX', 1],
  ['VFIO_PCI_BAR2_REGION_INDEX', 2],
  ['VFIO_PCI_BAR3_REGION_INDEX', 3],
  ['VFIO_PCI_BAR4_REGION_INDEX', 4],
  ['VFIO_PCI_BAR5_REGION_INDEX', 5],
  ['VFIO_PCI_ROM_REGION_INDEX', 6],
  ['VFIO_PCI_CONFIG_REGION_INDEX', 7],
  ['VFIO_PCI_VGA_REGION_INDEX', 8],
  ['VFIO_PCI_NUM_REGIONS', 9],
  ['VFIO_PCI_INTX_IRQ_INDEX', 0],
  ['VFIO_PCI_MSI_IRQ_INDEX', 1],
  ['VFIO_PCI_MSIX_IRQ_INDEX', 2],
  ['VFIO_PCI_ERR_IRQ_INDEX', 3],
  ['VFIO_PCI_REQ_IRQ_INDEX', 4],
  ['VFIO_PCI_NUM_IRQS', 5],
  // PCI hot reset (v6.6 adds the dev-id forms)
  ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID', 1 << 0],
  ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED', 1 << 1],
  ['VFIO_PCI_DEVID_OWNED', 0],
  ['VFIO_PCI_DEVID_NOT_OWNED', -1],
  // cdev / iommufd binding
  ['VFIO_DEVICE_BIND_FLAG_TOKEN', 1 << 0],
  ['VFIO_DEVICE_ATTACH_PASID', 1 << 0],
  ['VFIO_DEVICE_DETACH_PASID', 1 << 0],
  // struct vfio_iommu_type1_info and its capabilities
  ['VFIO_IOMMU_INFO_PGSIZES', 1 << 0],
  ['VFIO_IOMMU_INFO_CAPS', 1 << 1],
  ['VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE', 1],
  ['VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION', 2],
  ['VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL', 3],
  // struct vfio_iommu_type1_dma_map / _dma_unmap
  ['VFIO_DMA_MAP_FLAG_READ', 1 << 0],
  ['VFIO_DMA_MAP_FLAG_WRITE', 1 << 1],
  ['VFIO_DMA_MAP_FLAG_VADDR', 1 << 2],
  ['VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP', 1 << 0],
  ['VFIO_DMA_UNMAP_FLAG_ALL', 1 << 1],
  ['VFIO_DMA_UNMAP_FLAG_VADDR', 1 << 2],
  // include/uapi/linux/iommufd.h: enum iommufd_ioas_map_flags
  ['IOMMU_IOAS_MAP_FIXED_IOVA', 1 << 0],
  ['IOMMU_IOAS_MAP_WRITEABLE', 1 << 1],
  ['IOMMU_IOAS_MAP_READABLE', 1 << 2],
  // enum iommufd_option, enum iommufd_option_ops, enum iommufd_vfio_ioas_op
  ['IOMMU_OPTION_RLIMIT_MODE', 0],
  ['IOMMU_OPTION_HUGE_PAGES', 1],
  ['IOMMU_OPTION_OP_SET', 0],
  ['IOMMU_OPTION_OP_GET', 1],
  ['IOMMU_VFIO_IOAS_GET', 0],
  ['IOMMU_VFIO_IOAS_SET', 1],
  ['IOMMU_VFIO_IOAS_CLEAR', 2],
  // include/uapi/linux/kvm.h: the kvm-vfio device (v6.6 renames GROUP to FILE, keeping the old names)
  ['KVM_DEV_TYPE_VFIO', 4],
  ['KVM_DEV_VFIO_FILE', 1],
  ['KVM_DEV_VFIO_FILE_ADD', 1],
  ['KVM_DEV_VFIO_FILE_DEL', 2],
  ['KVM_DEV_VFIO_GROUP', 1],
  ['KVM_DEV_VFIO_GROUP_ADD', 1],
  ['KVM_DEV_VFIO_GROUP_DEL', 2],
  ['KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE', 3],
];

const ALL: Entry[] = [...VIRTIO, ...VHOST, ...VSOCK, ...TUN, ...FILE, ...VFIO];

function build(entries: readonly Entry[]): ReadonlyMap<string, bigint> {
  const m = new Map<string, bigint>();
  for (const [name, value] of entries) {
    if (m.has(name)) throw new Error(`constants: ${name} defined twice`);
    m.set(name, BigInt(value));
  }
  return m;
}

export const CONSTANTS: ReadonlyMap<string, bigint> = build(ALL);

/** Names of CONSTANTS that come from never-merged patch series, not from a released header. */
export const PROPOSED_CONSTANTS: ReadonlySet<string> = new Set(['VHOST_IOTLB_REMAP']);

export function constantValue(name: string): bigint | undefined {
  return CONSTANTS.get(name);
}

/**
 * Flag-name decoding for output/expectations: the names of a flag family whose OR is `v`. Each family
 * lists single-bit flags in bit order (multi-bit or zero values such as VHOST_ACCESS_RW, O_RDONLY,
 * O_SYNC and the IFF_NOFILTER alias of IFF_NO_PI are left out, so a decoding is unique).
 */
export const FLAG_FAMILIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  VIRTIO_CONFIG_S: [
    'VIRTIO_CONFIG_S_ACKNOWLEDGE',
    'VIRTIO_CONFIG_S_DRIVER',
    'VIRTIO_CONFIG_S_DRIVER_OK',
    'VIRTIO_CONFIG_S_FEATURES_OK',
    'VIRTIO_CONFIG_S_NEEDS_RESET',
    'VIRTIO_CONFIG_S_FAILED',
  ],
  VHOST_ACCESS: ['VHOST_ACCESS_RO', 'VHOST_ACCESS_WO'],
  IFF: [
    'IFF_TUN',
    'IFF_TAP',
    'IFF_NAPI',
    'IFF_NAPI_FRAGS',
    'IFF_NO_CARRIER',
    'IFF_MULTI_QUEUE',
    'IFF_ATTACH_QUEUE',
    'IFF_DETACH_QUEUE',
    'IFF_PERSIST',
    'IFF_NO_PI',
    'IFF_ONE_QUEUE',
    'IFF_VNET_HDR',
    'IFF_TUN_EXCL',
  ],
  TUN_F: ['TUN_F_CSUM', 'TUN_F_TSO4', 'TUN_F_TSO6', 'TUN_F_TSO_ECN', 'TUN_F_UFO', 'TUN_F_USO4', 'TUN_F_USO6'],
  O: [
    'O_WRONLY',
    'O_RDWR',
    'O_CREAT',
    'O_EXCL',
    'O_NOCTTY',
    'O_TRUNC',
    'O_APPEND',
    'O_NONBLOCK',
    'O_DSYNC',
    'O_DIRECT',
    'O_DIRECTORY',
    'O_NOFOLLOW',
    'O_NOATIME',
    'O_CLOEXEC',
    'O_PATH',
  ],
  POLL: [
    'POLLIN',
    'POLLPRI',
    'POLLOUT',
    'POLLERR',
    'POLLHUP',
    'POLLNVAL',
    'POLLRDNORM',
    'POLLRDBAND',
    'POLLWRNORM',
    'POLLWRBAND',
    'POLLMSG',
    'POLLRDHUP',
  ],
  EFD: ['EFD_SEMAPHORE', 'EFD_NONBLOCK', 'EFD_CLOEXEC'],
  VFIO_GROUP_FLAGS: ['VFIO_GROUP_FLAGS_VIABLE', 'VFIO_GROUP_FLAGS_CONTAINER_SET'],
  VFIO_DEVICE_FLAGS: [
    'VFIO_DEVICE_FLAGS_RESET',
    'VFIO_DEVICE_FLAGS_PCI',
    'VFIO_DEVICE_FLAGS_PLATFORM',
    'VFIO_DEVICE_FLAGS_AMBA',
    'VFIO_DEVICE_FLAGS_CCW',
    'VFIO_DEVICE_FLAGS_AP',
    'VFIO_DEVICE_FLAGS_FSL_MC',
    'VFIO_DEVICE_FLAGS_CAPS',
    'VFIO_DEVICE_FLAGS_CDX',
  ],
  VFIO_REGION_INFO_FLAG: [
    'VFIO_REGION_INFO_FLAG_READ',
    'VFIO_REGION_INFO_FLAG_WRITE',
    'VFIO_REGION_INFO_FLAG_MMAP',
    'VFIO_REGION_INFO_FLAG_CAPS',
  ],
  VFIO_IRQ_INFO: [
    'VFIO_IRQ_INFO_EVENTFD',
    'VFIO_IRQ_INFO_MASKABLE',
    'VFIO_IRQ_INFO_AUTOMASKED',
    'VFIO_IRQ_INFO_NORESIZE',
  ],
  VFIO_IRQ_SET: [
    'VFIO_IRQ_SET_DATA_NONE',
    'VFIO_IRQ_SET_DATA_BOOL',
    'VFIO_IRQ_SET_DATA_EVENTFD',
    'VFIO_IRQ_SET_ACTION_MASK',
    'VFIO_IRQ_SET_ACTION_UNMASK',
    'VFIO_IRQ_SET_ACTION_TRIGGER',
  ],
  VFIO_PCI_HOT_RESET_FLAG: ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID', 'VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED'],
  VFIO_IOMMU_INFO: ['VFIO_IOMMU_INFO_PGSIZES', 'VFIO_IOMMU_INFO_CAPS'],
  VFIO_DMA_MAP_FLAG: ['VFIO_DMA_MAP_FLAG_READ', 'VFIO_DMA_MAP_FLAG_WRITE', 'VFIO_DMA_MAP_FLAG_VADDR'],
  VFIO_DMA_UNMAP_FLAG: [
    'VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP',
    'VFIO_DMA_UNMAP_FLAG_ALL',
    'VFIO_DMA_UNMAP_FLAG_VADDR',
  ],
  IOMMU_IOAS_MAP: ['IOMMU_IOAS_MAP_FIXED_IOVA', 'IOMMU_IOAS_MAP_WRITEABLE', 'IOMMU_IOAS_MAP_READABLE'],
});

/**
 * `v` decoded with FLAG_FAMILIES[family]: the names of its set flags in bit order, then any bits no
 * name covers as one hex number (`0x30000`). Undefined for an unknown family.
 */
export function flagNames(family: string, v: bigint): string[] | undefined {
  if (!Object.hasOwn(FLAG_FAMILIES, family)) return undefined;
  const names = FLAG_FAMILIES[family] ?? [];
  const out: string[] = [];
  let rest = v;
  for (const name of names) {
    const bit = CONSTANTS.get(name) ?? 0n;
    if ((rest & bit) !== 0n) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) out.push(rest < 0n ? `-0x${(-rest).toString(16)}` : `0x${rest.toString(16)}`);
  return out;
}
