// include/uapi/linux/vfio.h: the VFIO container, group, device and type1 ioctls and their
// structs (vfio.md §2.1). Every VFIO request is the plain _IO(VFIO_TYPE, VFIO_BASE + n): the
// struct is documented, not encoded, so one number means different things on different fd
// types (0x3B70 is VFIO_IOMMU_GET_INFO on a container and GET_PCI_HOT_RESET_INFO on a device).
import { type ArgShape, defineIoctl, type IoctlDef } from './ioctl-def.js';
import { type StructDef, struct } from './struct.js';

export const VFIO_TYPE = 0x3b; // ';'
export const VFIO_BASE = 100;

export const vfio_group_status = struct('vfio_group_status', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
]);
/** 20 bytes up to 6.5; the pad field of 6.6 makes it 24 (vfio.md §3.2) */
export const vfio_device_info = struct('vfio_device_info', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['num_regions', 'u32'],
  ['num_irqs', 'u32'],
  ['cap_offset', 'u32'],
  ['pad', 'u32'],
]);
export const vfio_region_info = struct('vfio_region_info', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['index', 'u32'],
  ['cap_offset', 'u32'],
  ['size', 'u64'],
  ['offset', 'u64'],
]);
export const vfio_irq_info = struct('vfio_irq_info', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['index', 'u32'],
  ['count', 'u32'],
]);
export const vfio_irq_set = struct('vfio_irq_set', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['index', 'u32'],
  ['start', 'u32'],
  ['count', 'u32'],
]);
/** 24 bytes in every release: natural alignment pads after cap_offset (6.6 names the pad) */
export const vfio_iommu_type1_info = struct('vfio_iommu_type1_info', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['iova_pgsizes', 'u64'],
  ['cap_offset', 'u32'],
  ['pad', 'u32'],
]);
export const vfio_iommu_type1_dma_map = struct('vfio_iommu_type1_dma_map', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['vaddr', 'u64', 'pointer'],
  ['iova', 'u64'],
  ['size', 'u64'],
]);
export const vfio_iommu_type1_dma_unmap = struct('vfio_iommu_type1_dma_unmap', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['iova', 'u64'],
  ['size', 'u64'],
]);
/** the header of VFIO_DEVICE_GET_PCI_HOT_RESET_INFO; `devices[]` of vfio_pci_dependent_device follow */
export const vfio_pci_hot_reset_info = struct('vfio_pci_hot_reset_info', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['count', 'u32'],
]);
export const vfio_pci_dependent_device = struct('vfio_pci_dependent_device', [
  ['group_id', 'u32'],
  ['segment', 'u16'],
  ['bus', 'u8'],
  ['devfn', 'u8'],
]);
/** the header of VFIO_DEVICE_PCI_HOT_RESET; `group_fds[]` (s32) follow */
export const vfio_pci_hot_reset = struct('vfio_pci_hot_reset', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['count', 'u32'],
]);

/** minsz: offsetofend of the last mandatory field */
export const MINSZ = {
  group_status: 8,
  device_info: 16,
  region_info: 16,
  irq_info: 16,
  type1_info: 16,
  dma_map: 32,
  dma_unmap: 24,
  hot_reset_info: 12,
  hot_reset: 12,
} as const;

const value: ArgShape = { kind: 'value' };
const s = (def: StructDef): ArgShape => ({ kind: 'struct', def });
const fdPtr: ArgShape = { kind: 'scalar', type: 's32', role: 'fd' };
const io = (name: string, family: string, n: number, arg: ArgShape): IoctlDef =>
  defineIoctl(name, family, 'none', VFIO_TYPE, VFIO_BASE + n, arg);

export const VFIO_IOCTLS: readonly IoctlDef[] = [
  io('VFIO_GET_API_VERSION', 'vfio-container', 0, value),
  io('VFIO_CHECK_EXTENSION', 'vfio-container', 1, value),
  io('VFIO_SET_IOMMU', 'vfio-container', 2, value),
  io('VFIO_GROUP_GET_STATUS', 'vfio-group', 3, s(vfio_group_status)),
  io('VFIO_GROUP_SET_CONTAINER', 'vfio-group', 4, fdPtr),
  io('VFIO_GROUP_UNSET_CONTAINER', 'vfio-group', 5, value),
  io('VFIO_GROUP_GET_DEVICE_FD', 'vfio-group', 6, { kind: 'custom', size: 0, layout: 'string' }),
  io('VFIO_DEVICE_GET_INFO', 'vfio-device', 7, s(vfio_device_info)),
  io('VFIO_DEVICE_GET_REGION_INFO', 'vfio-device', 8, s(vfio_region_info)),
  io('VFIO_DEVICE_GET_IRQ_INFO', 'vfio-device', 9, s(vfio_irq_info)),
  io('VFIO_DEVICE_SET_IRQS', 'vfio-device', 10, {
    kind: 'custom',
    size: vfio_irq_set.size,
    layout: 'vfio_irq_set',
  }),
  io('VFIO_DEVICE_RESET', 'vfio-device', 11, value),
  io('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', 'vfio-device', 12, {
    kind: 'custom',
    size: vfio_pci_hot_reset_info.size,
    layout: 'vfio_pci_hot_reset_info',
  }),
  io('VFIO_DEVICE_PCI_HOT_RESET', 'vfio-device', 13, {
    kind: 'custom',
    size: vfio_pci_hot_reset.size,
    layout: 'vfio_pci_hot_reset',
  }),
  io('VFIO_IOMMU_GET_INFO', 'vfio-container', 12, {
    kind: 'custom',
    size: vfio_iommu_type1_info.size,
    layout: 'vfio_iommu_type1_info',
  }),
  io('VFIO_IOMMU_MAP_DMA', 'vfio-container', 13, s(vfio_iommu_type1_dma_map)),
  io('VFIO_IOMMU_UNMAP_DMA', 'vfio-container', 14, s(vfio_iommu_type1_dma_unmap)),
  io('VFIO_IOMMU_DIRTY_PAGES', 'vfio-container', 17, value),
];

const BY_NAME: ReadonlyMap<string, IoctlDef> = new Map(VFIO_IOCTLS.map((d) => [d.name, d]));

/** The request number of a VFIO ioctl (the table is fixed; a wrong name is vioctl's bug). */
export function vfioNr(name: string): number {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`internal: no vfio ioctl ${name}`);
  return d.number;
}

// VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU values
export const VFIO_API_VERSION = 0;
export const VFIO_TYPE1_IOMMU = 1n;
export const VFIO_SPAPR_TCE_IOMMU = 2n;
export const VFIO_TYPE1v2_IOMMU = 3n;
export const VFIO_DMA_CC_IOMMU = 4n;
export const VFIO_NOIOMMU_IOMMU = 8n;
export const VFIO_UNMAP_ALL = 9n;
export const VFIO_UPDATE_VADDR = 10n;

export const VFIO_GROUP_FLAGS_VIABLE = 1;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 2;
export const VFIO_DEVICE_FLAGS_RESET = 1;
export const VFIO_DEVICE_FLAGS_PCI = 2;
export const VFIO_IOMMU_INFO_PGSIZES = 1;
export const VFIO_IOMMU_INFO_CAPS = 2;
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;
export const VFIO_DMA_MAP_FLAG_READ = 1n;
export const VFIO_DMA_MAP_FLAG_WRITE = 2n;
export const VFIO_DMA_MAP_FLAG_VADDR = 4n;
export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1n;
export const VFIO_DMA_UNMAP_FLAG_ALL = 2n;
export const VFIO_DMA_UNMAP_FLAG_VADDR = 4n;
