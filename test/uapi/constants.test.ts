import { describe, expect, test } from 'vitest';
import {
  CONSTANTS,
  constantValue,
  FLAG_FAMILIES,
  flagNames,
  PROPOSED_CONSTANTS,
} from '../../src/uapi/constants.js';
import {
  FEATURE_ALIASES,
  FEATURE_BITS,
  featureBit,
  featureMask,
  featureNames,
} from '../../src/uapi/virtio.js';

// Values as the kernel headers define them (x86-64).
describe('constants that stand for themselves', () => {
  test.each([
    ['VIRTIO_CONFIG_S_ACKNOWLEDGE', 1n],
    ['VIRTIO_CONFIG_S_DRIVER_OK', 4n],
    ['VIRTIO_CONFIG_S_FEATURES_OK', 8n],
    ['VIRTIO_CONFIG_S_NEEDS_RESET', 0x40n],
    ['VIRTIO_CONFIG_S_FAILED', 0x80n],
    ['VIRTIO_ID_VSOCK', 19n],
    ['VHOST_ACCESS_RW', 3n],
    ['VHOST_IOTLB_UPDATE', 2n],
    ['VHOST_IOTLB_BATCH_END', 6n],
    ['VHOST_IOTLB_REMAP', 7n],
    ['VHOST_IOTLB_MSG_V2', 2n],
    ['VHOST_FILE_UNBIND', -1n],
    ['VHOST_VRING_F_LOG', 0n],
    ['VHOST_PAGE_SIZE', 0x1000n],
    ['VMADDR_CID_ANY', 0xffffffffn],
    ['VMADDR_CID_HOST', 2n],
    ['IFF_TAP', 2n],
    ['IFF_NO_PI', 0x1000n],
    ['IFF_VNET_HDR', 0x4000n],
    ['IFF_MULTI_QUEUE', 0x100n],
    ['O_RDWR', 2n],
    ['O_EXCL', 0x80n],
    ['O_NONBLOCK', 0x800n],
    ['O_CLOEXEC', 0x80000n],
    ['POLLHUP', 0x10n],
    ['POLLWRNORM', 0x100n],
    ['EFD_NONBLOCK', 0x800n],
    ['EFD_SEMAPHORE', 1n],
    ['VFIO_API_VERSION', 0n],
    ['VFIO_TYPE1v2_IOMMU', 3n],
    ['VFIO_NOIOMMU_IOMMU', 8n],
    ['VFIO_UPDATE_VADDR', 10n],
    ['VFIO_GROUP_FLAGS_CONTAINER_SET', 2n],
    ['VFIO_DMA_MAP_FLAG_VADDR', 4n],
    ['VFIO_DMA_UNMAP_FLAG_ALL', 2n],
    ['VFIO_DEVICE_FLAGS_CAPS', 0x80n],
    ['VFIO_IOMMU_INFO_CAPS', 2n],
    ['VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL', 3n],
    ['VFIO_PCI_CONFIG_REGION_INDEX', 7n],
    ['VFIO_PCI_VGA_REGION_INDEX', 8n],
    ['VFIO_PCI_REQ_IRQ_INDEX', 4n],
    ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED', 2n],
    ['VFIO_PCI_DEVID_NOT_OWNED', -1n],
    ['IOMMU_IOAS_MAP_READABLE', 4n],
    ['KVM_DEV_TYPE_VFIO', 4n],
    ['KVM_DEV_VFIO_FILE', 1n],
    ['KVM_DEV_VFIO_GROUP_DEL', 2n],
  ])('%s = %i', (name, value) => {
    expect(constantValue(name)).toBe(value);
  });

  test('unknown names', () => {
    expect(constantValue('VFIO_NO_SUCH')).toBeUndefined();
    expect(constantValue('VIRTIO_F_VERSION_1')).toBeUndefined(); // a feature bit, see virtio.ts
  });

  test('proposed names are known constants', () => {
    for (const name of PROPOSED_CONSTANTS) expect(CONSTANTS.has(name)).toBe(true);
  });

  test('no name is both a constant and a feature bit', () => {
    for (const f of FEATURE_BITS) expect(CONSTANTS.has(f.name)).toBe(false);
    for (const alias of Object.keys(FEATURE_ALIASES)) expect(CONSTANTS.has(alias)).toBe(false);
  });
});

describe('flag families', () => {
  test('every family member is a single-bit constant, in bit order, without repeats', () => {
    for (const [family, names] of Object.entries(FLAG_FAMILIES)) {
      let last = 0n;
      for (const name of names) {
        const v = constantValue(name);
        expect(v, `${family}: ${name}`).toBeDefined();
        expect(v! > last && (v! & (v! - 1n)) === 0n, `${family}: ${name}`).toBe(true);
        last = v!;
      }
    }
  });

  test('decoding', () => {
    expect(flagNames('VFIO_GROUP_FLAGS', 3n)).toEqual([
      'VFIO_GROUP_FLAGS_VIABLE',
      'VFIO_GROUP_FLAGS_CONTAINER_SET',
    ]);
    expect(flagNames('VIRTIO_CONFIG_S', 0xfn)).toEqual([
      'VIRTIO_CONFIG_S_ACKNOWLEDGE',
      'VIRTIO_CONFIG_S_DRIVER',
      'VIRTIO_CONFIG_S_DRIVER_OK',
      'VIRTIO_CONFIG_S_FEATURES_OK',
    ]);
    expect(flagNames('POLL', 0x45n)).toEqual(['POLLIN', 'POLLOUT', 'POLLRDNORM']);
    expect(flagNames('IFF', 0x5002n)).toEqual(['IFF_TAP', 'IFF_NO_PI', 'IFF_VNET_HDR']);
    expect(flagNames('VFIO_DMA_MAP_FLAG', 0x13n)).toEqual([
      'VFIO_DMA_MAP_FLAG_READ',
      'VFIO_DMA_MAP_FLAG_WRITE',
      '0x10',
    ]);
    expect(flagNames('VFIO_GROUP_FLAGS', 0n)).toEqual([]);
    expect(flagNames('NO_SUCH_FAMILY', 1n)).toBeUndefined();
  });
});

describe('feature bits (bit numbers, as the headers define them)', () => {
  test.each([
    ['VIRTIO_F_NOTIFY_ON_EMPTY', 24, 'transport'],
    ['VIRTIO_F_ANY_LAYOUT', 27, 'transport'],
    ['VIRTIO_RING_F_INDIRECT_DESC', 28, 'transport'],
    ['VIRTIO_RING_F_EVENT_IDX', 29, 'transport'],
    ['VIRTIO_F_VERSION_1', 32, 'transport'],
    ['VIRTIO_F_ACCESS_PLATFORM', 33, 'transport'],
    ['VIRTIO_F_IN_ORDER', 35, 'transport'],
    ['VIRTIO_F_RING_RESET', 40, 'transport'],
    ['VIRTIO_F_ADMIN_VQ', 41, 'transport'],
    ['VHOST_F_LOG_ALL', 26, 'vhost'],
    ['VHOST_NET_F_VIRTIO_NET_HDR', 27, 'vhost'],
    ['VIRTIO_NET_F_MTU', 3, 'net'],
    ['VIRTIO_NET_F_MAC', 5, 'net'],
    ['VIRTIO_NET_F_MRG_RXBUF', 15, 'net'],
    ['VIRTIO_NET_F_CTRL_VQ', 17, 'net'],
    ['VIRTIO_NET_F_MQ', 22, 'net'],
    ['VIRTIO_NET_F_SPEED_DUPLEX', 63, 'net'],
    ['VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO', 65, 'net'],
    ['VIRTIO_BLK_F_SEG_MAX', 2, 'blk'],
    ['VIRTIO_BLK_F_FLUSH', 9, 'blk'],
    ['VIRTIO_BLK_F_WRITE_ZEROES', 14, 'blk'],
    ['VIRTIO_VSOCK_F_SEQPACKET', 1, 'vsock'],
    ['VHOST_BACKEND_F_IOTLB_MSG_V2', 1, 'backend'],
    ['VHOST_BACKEND_F_IOTLB_BATCH', 2, 'backend'],
    ['VHOST_BACKEND_F_IOTLB_ASID', 3, 'backend'],
    ['VHOST_BACKEND_F_DESC_ASID', 7, 'backend'],
    ['VHOST_BACKEND_F_IOTLB_PERSIST', 8, 'backend'],
  ] as const)('%s = bit %i (%s)', (name, bit, family) => {
    expect(featureBit(name)).toEqual({ name, bit, family });
  });

  test('proposed backend bits are marked', () => {
    expect(featureBit('VHOST_BACKEND_F_NEW_OWNER')).toMatchObject({ bit: 9, proposed: true });
    expect(featureBit('VHOST_BACKEND_F_IOTLB_REMAP')).toMatchObject({ bit: 10, proposed: true });
    expect(featureBit('VHOST_BACKEND_F_SUSPEND')?.proposed).toBeUndefined();
  });

  test('aliases resolve to the canonical entry', () => {
    expect(featureBit('VIRTIO_F_IOMMU_PLATFORM')?.name).toBe('VIRTIO_F_ACCESS_PLATFORM');
    expect(featureBit('VIRTIO_BLK_F_WCE')?.name).toBe('VIRTIO_BLK_F_FLUSH');
    expect(featureBit('VIRTIO_F_NO_SUCH')).toBeUndefined();
    expect(featureBit('toString')).toBeUndefined();
  });

  test('a name stands for its mask in scenario values', () => {
    expect(featureMask('VIRTIO_F_ACCESS_PLATFORM')).toBe(0x200000000n);
    expect(featureMask('VIRTIO_F_IOMMU_PLATFORM')).toBe(0x200000000n);
    expect(featureMask('VHOST_BACKEND_F_IOTLB_MSG_V2')).toBe(0x2n);
    expect(featureMask('VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO')).toBe(1n << 67n);
    expect(featureMask('NOPE')).toBeUndefined();
  });

  test('names are unique and bits unique within a family', () => {
    const names = FEATURE_BITS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    const keys = FEATURE_BITS.map((f) => `${f.family}:${f.bit}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('featureNames', () => {
  test('vhost-vsock 5.14+ offered set (vhost.md §8.3), in bit order', () => {
    expect(featureNames(0x33d000002n, ['transport', 'vhost', 'vsock'])).toEqual([
      'VIRTIO_VSOCK_F_SEQPACKET',
      'VIRTIO_F_NOTIFY_ON_EMPTY',
      'VHOST_F_LOG_ALL',
      'VIRTIO_F_ANY_LAYOUT',
      'VIRTIO_RING_F_INDIRECT_DESC',
      'VIRTIO_RING_F_EVENT_IDX',
      'VIRTIO_F_VERSION_1',
      'VIRTIO_F_ACCESS_PLATFORM',
    ]);
  });

  test('vhost-net 6.3+ offered set', () => {
    expect(featureNames(0x1033d008000n, ['transport', 'vhost', 'net'])).toEqual([
      'VIRTIO_NET_F_MRG_RXBUF',
      'VIRTIO_F_NOTIFY_ON_EMPTY',
      'VHOST_F_LOG_ALL',
      'VIRTIO_F_ANY_LAYOUT',
      'VIRTIO_RING_F_INDIRECT_DESC',
      'VIRTIO_RING_F_EVENT_IDX',
      'VIRTIO_F_VERSION_1',
      'VIRTIO_F_ACCESS_PLATFORM',
      'VIRTIO_F_RING_RESET',
    ]);
  });

  test('the first listed family wins a shared bit', () => {
    expect(featureNames(1n << 27n, ['vhost', 'transport'])).toEqual(['VHOST_NET_F_VIRTIO_NET_HDR']);
    expect(featureNames(1n << 27n, ['transport', 'vhost'])).toEqual(['VIRTIO_F_ANY_LAYOUT']);
  });

  test('backend features and unknown bits', () => {
    expect(featureNames(0xen, ['backend'])).toEqual([
      'VHOST_BACKEND_F_IOTLB_MSG_V2',
      'VHOST_BACKEND_F_IOTLB_BATCH',
      'VHOST_BACKEND_F_IOTLB_ASID',
    ]);
    expect(featureNames(0x2n | (1n << 1n) | 1n | (1n << 63n), ['vsock'])).toEqual([
      'BIT(0)',
      'VIRTIO_VSOCK_F_SEQPACKET',
      'BIT(63)',
    ]);
    expect(featureNames(0n, ['transport'])).toEqual([]);
    expect(featureNames(1n << 33n, [])).toEqual(['BIT(33)']);
  });
});
