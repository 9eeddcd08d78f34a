// include/uapi/linux/iommufd.h: the HWPT-family commands (IOMMU_HWPT_ALLOC 0x89 and
// IOMMU_GET_HW_INFO 0x8a since 6.6, SET_DIRTY_TRACKING 0x8b / GET_DIRTY_BITMAP 0x8c since 6.7,
// HWPT_INVALIDATE 0x8d since 6.8, FAULT_QUEUE_ALLOC 0x8e since 6.11) and the driver data they
// carry for the VT-d (IOMMU_HWPT_DATA_VTD_S1, IOMMU_HW_INFO_TYPE_INTEL_VTD). Two structs grew
// across releases; the dispatcher takes the release's one (hwpt-ops.ts), the ioctl table the newest.
import { defineIoctl, type IoctlDef } from './ioctl-def.js';
import { type StructDef, struct } from './struct.js';

// iommufd.ts's values, repeated: it imports this file, so taking them from there would read them
// before they are initialised
const IOMMUFD_TYPE = 0x3b;
const IOMMUFD_CMD_BASE = 0x80;

/** 6.6 ("iommufd: Add IOMMU_HWPT_ALLOC"): 24 bytes */
export const iommu_hwpt_alloc_v66 = struct('iommu_hwpt_alloc', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['dev_id', 'u32'],
  ['pt_id', 'u32'],
  ['out_hwpt_id', 'u32'],
  ['__reserved', 'u32'],
]);
/** 6.7 ("iommufd: Add IOMMU_HWPT_ALLOC nesting"): data_type / data_len / data_uptr, 40 bytes */
export const iommu_hwpt_alloc_v67 = struct('iommu_hwpt_alloc', [
  ...iommu_hwpt_alloc_v66.fields.map((f) => [f.name, f.type] as const),
  ['data_type', 'u32'],
  ['data_len', 'u32'],
  ['data_uptr', 'u64', 'pointer'],
]);
/** 6.11 ("iommufd: Associate fault object with iommufd_hw_pgtable"): fault_id, 48 bytes */
export const iommu_hwpt_alloc = struct('iommu_hwpt_alloc', [
  ...iommu_hwpt_alloc_v67.fields.map((f) => [f.name, f.type, f.role] as const),
  ['fault_id', 'u32'],
  ['__reserved2', 'u32'],
]);

/** 6.6 ("iommufd: Add IOMMU_GET_HW_INFO"): 32 bytes */
export const iommu_hw_info_v66 = struct('iommu_hw_info', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['dev_id', 'u32'],
  ['data_len', 'u32'],
  ['data_uptr', 'u64', 'pointer'],
  ['out_data_type', 'u32'],
  ['__reserved', 'u32'],
]);
/** 6.7 ("iommufd: Add a flag to report the dirty tracking capability"): out_capabilities, 40 bytes */
export const iommu_hw_info_v67 = struct('iommu_hw_info', [
  ...iommu_hw_info_v66.fields.map((f) => [f.name, f.type, f.role] as const),
  ['out_capabilities', 'u64'],
]);
/**
 * Debian 6.12.117 (mainline 6.13, "iommufd: Extend IOMMU_GET_HW_INFO to report PASID capability"):
 * the __u32 __reserved became __u8 out_max_pasid_log2 and __u8 __reserved[3]; same size.
 */
export const iommu_hw_info = struct('iommu_hw_info', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['dev_id', 'u32'],
  ['data_len', 'u32'],
  ['data_uptr', 'u64', 'pointer'],
  ['out_data_type', 'u32'],
  ['out_max_pasid_log2', 'u8'],
  ['__reserved0', 'u8'],
  ['__reserved1', 'u8'],
  ['__reserved2', 'u8'],
  ['out_capabilities', 'u64'],
]);

export const iommu_hwpt_set_dirty_tracking = struct('iommu_hwpt_set_dirty_tracking', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['hwpt_id', 'u32'],
  ['__reserved', 'u32'],
]);
export const iommu_hwpt_get_dirty_bitmap = struct('iommu_hwpt_get_dirty_bitmap', [
  ['size', 'u32'],
  ['hwpt_id', 'u32'],
  ['flags', 'u32'],
  ['__reserved', 'u32'],
  ['iova', 'u64'],
  ['length', 'u64'],
  ['page_size', 'u64'],
  ['data', 'u64', 'pointer'],
]);
export const iommu_hwpt_invalidate = struct('iommu_hwpt_invalidate', [
  ['size', 'u32'],
  ['hwpt_id', 'u32'],
  ['data_uptr', 'u64', 'pointer'],
  ['data_type', 'u32'],
  ['entry_len', 'u32'],
  ['entry_num', 'u32'],
  ['__reserved', 'u32'],
]);
export const iommu_fault_alloc = struct('iommu_fault_alloc', [
  ['size', 'u32'],
  ['flags', 'u32'],
  ['out_fault_id', 'u32'],
  ['out_fault_fd', 'u32', 'fd', 'out'],
]);

/** struct iommu_hw_info_vtd: what intel_iommu_hw_info returns */
export const iommu_hw_info_vtd = struct('iommu_hw_info_vtd', [
  ['flags', 'u32'],
  ['__reserved', 'u32'],
  ['cap_reg', 'u64'],
  ['ecap_reg', 'u64'],
]);
/** struct iommu_hwpt_vtd_s1 (IOMMU_HWPT_DATA_VTD_S1): min size offsetofend(__reserved) = 24 */
export const iommu_hwpt_vtd_s1 = struct('iommu_hwpt_vtd_s1', [
  ['flags', 'u64'],
  ['pgtbl_addr', 'u64'],
  ['addr_width', 'u32'],
  ['__reserved', 'u32'],
]);
/** struct iommu_hwpt_vtd_s1_invalidate (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) */
export const iommu_hwpt_vtd_s1_invalidate = struct('iommu_hwpt_vtd_s1_invalidate', [
  ['addr', 'u64'],
  ['npages', 'u64'],
  ['flags', 'u32'],
  ['__reserved', 'u32'],
]);
/** what read(2) of a fault fd gives per fault, and what write(2) takes per response */
export const IOMMU_HWPT_PGFAULT_SIZE = 40;
export const IOMMU_HWPT_PAGE_RESPONSE_SIZE = 8;

/** op->min_size: offsetofend of the field IOCTL_OP() names */
export const HWPT_MINSZ = {
  hwpt_alloc: 24, // __reserved
  hw_info: 32, // __reserved (the u32, later the u8[3]: both end at 32)
  set_dirty_tracking: 16, // __reserved
  get_dirty_bitmap: 48, // data
  invalidate: 32, // __reserved
  fault_alloc: 16, // out_fault_fd
} as const;

export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1n;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 2n;
export const IOMMU_HWPT_FAULT_ID_VALID = 4n;
export const IOMMU_HWPT_DATA_NONE = 0n;
export const IOMMU_HWPT_DATA_VTD_S1 = 1n;
export const IOMMU_HW_INFO_TYPE_NONE = 0n;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1n;
export const IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1n;
export const IOMMU_HW_CAP_DIRTY_TRACKING = 1n;
export const IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1n;
export const IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1n;
export const IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0n;
export const IOMMU_VTD_INV_FLAGS_LEAF = 1n;
/** iommu_hwpt_vtd_s1.flags */
export const IOMMU_VTD_S1_SRE = 1n;
export const IOMMU_VTD_S1_EAFE = 2n;
export const IOMMU_VTD_S1_WPE = 4n;

const iommufd = (name: string, nr: number, def: StructDef): IoctlDef =>
  defineIoctl(name, 'iommufd', 'none', IOMMUFD_TYPE, IOMMUFD_CMD_BASE + nr, { kind: 'struct', def });

export const IOMMUFD_HWPT_IOCTLS: readonly IoctlDef[] = [
  iommufd('IOMMU_HWPT_ALLOC', 9, iommu_hwpt_alloc),
  iommufd('IOMMU_GET_HW_INFO', 10, iommu_hw_info),
  iommufd('IOMMU_HWPT_SET_DIRTY_TRACKING', 11, iommu_hwpt_set_dirty_tracking),
  iommufd('IOMMU_HWPT_GET_DIRTY_BITMAP', 12, iommu_hwpt_get_dirty_bitmap),
  iommufd('IOMMU_HWPT_INVALIDATE', 13, iommu_hwpt_invalidate),
  iommufd('IOMMU_FAULT_QUEUE_ALLOC', 14, iommu_fault_alloc),
];
