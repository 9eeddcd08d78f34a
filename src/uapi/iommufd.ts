// include/uapi/linux/iommufd.h (v6.2+) and the vfio cdev ioctls of include/uapi/linux/vfio.h
// (v6.6+; vfio.md §2.1, §2.2, §11, §12). Like VFIO, iommufd encodes plain _IO(';', nr): the
// struct is documented, not encoded, and every iommufd struct starts with `size`.
import { type ArgShape, defineIoctl, type IoctlDef } from './ioctl-def.js';
import { IOMMUFD_HWPT_IOCTLS } from './iommufd-hwpt.js';
import { type StructDef, struct } from './struct.js';
import { VFIO_BASE, VFIO_TYPE } from './vfio.js';

export const IOMMUFD_TYPE = 0x3b;
export const IOMMUFD_CMD_BASE = 0x80;

export const iommu_destroy = struct('iommu_destroy', [
  ['size', 'u32'],
  ['id', 'u32'],
]);
export const iommu_ioas_alloc = struct('iommu_ioas_alloc', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['out_ioas_id', 'u32'],
]);
/** struct iommu_iova_range: the elements of the arrays at allowed_iovas */
export const iommu_iova_range = struct('iommu_iova_range', [
  ['start', 'u64'],
  ['last', 'u64'],
]);
export const iommu_ioas_allow_iovas = struct('iommu_ioas_allow_iovas', [
  ['size', 'u32'],
  ['ioas_id', 'u32'],
  ['num_iovas', 'u32'],
  ['__reserved', 'u32'],
  ['allowed_iovas', 'u64', 'pointer'],
]);
export const iommu_ioas_copy = struct('iommu_ioas_copy', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['dst_ioas_id', 'u32'],
  ['src_ioas_id', 'u32'],
  ['length', 'u64'],
  ['dst_iova', 'u64'],
  ['src_iova', 'u64'],
]);
export const iommu_ioas_iova_ranges = struct('iommu_ioas_iova_ranges', [
  ['size', 'u32'],
  ['ioas_id', 'u32'],
  ['num_iovas', 'u32'],
  ['__reserved', 'u32'],
  ['allowed_iovas', 'u64', 'pointer'],
  ['out_iova_alignment', 'u64'],
]);
export const iommu_ioas_map = struct('iommu_ioas_map', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['ioas_id', 'u32'],
  ['__reserved', 'u32'],
  ['user_va', 'u64', 'pointer'],
  ['length', 'u64'],
  ['iova', 'u64'],
]);
export const iommu_ioas_unmap = struct('iommu_ioas_unmap', [
  ['size', 'u32'],
  ['ioas_id', 'u32'],
  ['iova', 'u64'],
  ['length', 'u64'],
]);

export const iommu_option = struct('iommu_option', [
  ['size', 'u32'],
  ['option_id', 'u32'],
  ['op', 'u16'],
  ['__reserved', 'u16'],
  ['object_id', 'u32'],
  ['val64', 'u64'],
]);
export const iommu_vfio_ioas = struct('iommu_vfio_ioas', [
  ['size', 'u32'],
  ['ioas_id', 'u32'],
  ['op', 'u16'],
  ['__reserved', 'u16'],
]);

/** struct vfio_device_bind_iommufd (v6.6, before the token extension): 16 bytes */
export const vfio_device_bind_iommufd = struct('vfio_device_bind_iommufd', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['iommufd', 's32', 'fd'],
  ['out_devid', 'u32'],
]);
export const vfio_device_attach_iommufd_pt = struct('vfio_device_attach_iommufd_pt', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
  ['pt_id', 'u32'],
]);
export const vfio_device_detach_iommufd_pt = struct('vfio_device_detach_iommufd_pt', [
  ['argsz', 'u32'],
  ['flags', 'u32'],
]);

/** the dispatcher's min_size: offsetofend of each command's last mandatory field */
export const IOMMUFD_MINSZ = {
  destroy: 8,
  ioas_alloc: 12,
  /** offsetofend(allowed_iovas) */
  ioas_allow_iovas: 24,
  /** offsetofend(src_iova) */
  ioas_copy: 40,
  /** offsetofend(out_iova_alignment) */
  ioas_iova_ranges: 32,
  ioas_map: 40,
  ioas_unmap: 24,
  /** offsetofend(val64) */
  option: 24,
  /** offsetofend(__reserved) */
  vfio_ioas: 12,
} as const;

export const IOMMU_IOAS_MAP_FIXED_IOVA = 1n;
export const IOMMU_IOAS_MAP_WRITEABLE = 2n;
export const IOMMU_IOAS_MAP_READABLE = 4n;

/** enum iommufd_option and enum iommufd_option_ops */
export const IOMMU_OPTION_RLIMIT_MODE = 0n;
export const IOMMU_OPTION_HUGE_PAGES = 1n;
export const IOMMU_OPTION_OP_SET = 0n;
export const IOMMU_OPTION_OP_GET = 1n;
/** enum iommufd_vfio_ioas_op */
export const IOMMU_VFIO_IOAS_GET = 0n;
export const IOMMU_VFIO_IOAS_SET = 1n;
export const IOMMU_VFIO_IOAS_CLEAR = 2n;

/** vfio_pci_hot_reset_info.flags (v6.6) and the special devids of vfio_pci_dependent_device */
export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1;
export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = 2;
export const VFIO_PCI_DEVID_OWNED = 0;
export const VFIO_PCI_DEVID_NOT_OWNED = 0xffffffff;

const s = (def: StructDef): ArgShape => ({ kind: 'struct', def });
const iommufd = (name: string, nr: number, def: StructDef): IoctlDef =>
  defineIoctl(name, 'iommufd', 'none', IOMMUFD_TYPE, IOMMUFD_CMD_BASE + nr, s(def));
const cdev = (name: string, n: number, def: StructDef): IoctlDef =>
  defineIoctl(name, 'vfio-device', 'none', VFIO_TYPE, VFIO_BASE + n, s(def));

export const IOMMUFD_IOCTLS: readonly IoctlDef[] = [
  iommufd('IOMMU_DESTROY', 0, iommu_destroy),
  iommufd('IOMMU_IOAS_ALLOC', 1, iommu_ioas_alloc),
  iommufd('IOMMU_IOAS_ALLOW_IOVAS', 2, iommu_ioas_allow_iovas),
  iommufd('IOMMU_IOAS_COPY', 3, iommu_ioas_copy),
  iommufd('IOMMU_IOAS_IOVA_RANGES', 4, iommu_ioas_iova_ranges),
  iommufd('IOMMU_IOAS_MAP', 5, iommu_ioas_map),
  iommufd('IOMMU_IOAS_UNMAP', 6, iommu_ioas_unmap),
  iommufd('IOMMU_OPTION', 7, iommu_option),
  iommufd('IOMMU_VFIO_IOAS', 8, iommu_vfio_ioas),
  ...IOMMUFD_HWPT_IOCTLS,
  cdev('VFIO_DEVICE_BIND_IOMMUFD', 18, vfio_device_bind_iommufd),
  cdev('VFIO_DEVICE_ATTACH_IOMMUFD_PT', 19, vfio_device_attach_iommufd_pt),
  cdev('VFIO_DEVICE_DETACH_IOMMUFD_PT', 20, vfio_device_detach_iommufd_pt),
];

const BY_NAME: ReadonlyMap<string, IoctlDef> = new Map(IOMMUFD_IOCTLS.map((d) => [d.name, d]));

export function iommufdNr(name: string): number {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`internal: no iommufd ioctl ${name}`);
  return d.number;
}
