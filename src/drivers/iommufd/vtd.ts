// The intel_iommu driver's answers to iommufd (drivers/iommu/intel/iommu.c, nested.c, pasid.c,
// iommu.h @ 6.12; the 6.9 tree's are the same for what is modelled here but for the two vtd-*
// profile features: ssads_supported without SMPWC, and user domains on the first stage of an
// FLTS-only unit), decided from the VT-d unit's registers as the machine gives them (machine.ts
// `iommu:`, QEMU 7.2's by default).
import type { Kernel } from '../../kernel/kernel.js';
import type { Mm } from '../../kernel/memory.js';
import { type Fail, fail } from '../../kernel/result.js';
import {
  IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
  IOMMU_VTD_INV_FLAGS_LEAF,
  IOMMU_VTD_S1_EAFE,
  IOMMU_VTD_S1_SRE,
  iommu_hw_info_vtd,
  iommu_hwpt_vtd_s1,
  iommu_hwpt_vtd_s1_invalidate,
} from '../../uapi/iommufd-hwpt.js';
import { encodeStruct, readScalar } from '../../uapi/struct.js';

/**
 * intel_iommu_sm: IS_ENABLED(CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON), which Debian's 6.12
 * config sets (=y), and the oracle's `intel_iommu=on` does not turn off (sm_off would). The
 * mainline profiles (6.6 to 6.10) are assumed built the same way (unverified). It only matters
 * once the machine's ecap has SMTS: QEMU's default does not.
 */
const INTEL_IOMMU_SM = true;

const bit = (r: bigint, n: number) => ((r >> BigInt(n)) & 1n) === 1n;

/** the ecap_* / cap_* decoders of iommu.h that the driver's decisions below read */
export const ecap = {
  smts: (e: bigint) => bit(e, 43),
  slads: (e: bigint) => bit(e, 45),
  smpwc: (e: bigint) => bit(e, 48),
  flts: (e: bigint) => bit(e, 47),
  slts: (e: bigint) => bit(e, 46),
  nest: (e: bigint) => bit(e, 26),
  sc: (e: bigint) => bit(e, 7),
  srs: (e: bigint) => bit(e, 31),
  eafs: (e: bigint) => bit(e, 34),
};
const capFl5lp = (c: bigint) => bit(c, 60);

/** sm_supported(iommu): intel_iommu_sm && ecap_smts */
export function smSupported(k: Kernel): boolean {
  return INTEL_IOMMU_SM && ecap.smts(k.machine.iommu.ecap);
}
/** ssads_supported(iommu): sm_supported && ecap_slads, and ecap_smpwc where the release asks it */
export function ssadsSupported(k: Kernel): boolean {
  const e = k.machine.iommu.ecap;
  return smSupported(k) && ecap.slads(e) && (ecap.smpwc(e) || !k.profile.has('vtd-ssads-needs-smpwc'));
}
/**
 * dmar_domain->use_first_level of a user (IOMMU_DOMAIN_UNMANAGED) domain: never where
 * intel_iommu_domain_alloc_user asks for the second stage; before, alloc_domain's
 * first_level_by_default: scalable mode, and the unit has one of FLTS / SLTS, that being FLTS
 * (with both, an UNMANAGED domain takes the second stage). One unit: the cap_audit sanity values
 * are its registers.
 */
function userDomainFirstLevel(k: Kernel): boolean {
  if (k.profile.has('vtd-user-domain-second-stage') || !smSupported(k)) return false;
  const e = k.machine.iommu.ecap;
  return ecap.flts(e) && !ecap.slts(e);
}
/** nested_supported(iommu): sm_supported && ecap_nest */
export function nestedSupported(k: Kernel): boolean {
  return smSupported(k) && ecap.nest(k.machine.iommu.ecap);
}

export type IommuCap = 'CACHE_COHERENCY' | 'ENFORCE_CACHE_COHERENCY' | 'DIRTY_TRACKING';

/** intel_iommu_capable */
export function intelCapable(k: Kernel, cap: IommuCap): boolean {
  switch (cap) {
    case 'CACHE_COHERENCY':
      return true;
    case 'ENFORCE_CACHE_COHERENCY':
      return ecap.sc(k.machine.iommu.ecap);
    case 'DIRTY_TRACKING':
      return ssadsSupported(k);
  }
}

/** intel_iommu_hw_info: struct iommu_hw_info_vtd (the kzalloc is a fault point, -ENOMEM) */
export function intelHwInfo(k: Kernel, task: object): Uint8Array | Fail {
  if (k.fault.alloc(task, 'intel_iommu_hw_info: kzalloc vtd'))
    return fail('ENOMEM', 'intel_iommu_hw_info', '!vtd (kzalloc)');
  return encodeStruct(iommu_hw_info_vtd, {
    flags: IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
    cap_reg: k.machine.iommu.cap,
    ecap_reg: k.machine.iommu.ecap,
  });
}

/** the dmar_domain state iommufd's uAPI can observe */
export interface DmarDomain {
  readonly kind: 'paging' | 'nested';
  /** dmar_domain->nested_parent */
  readonly nestedParent: boolean;
  /** domain->dirty_ops (set for IOMMU_HWPT_ALLOC_DIRTY_TRACKING) */
  readonly dirtyOps: boolean;
  /** dmar_domain->dirty_tracking */
  dirtyTracking: boolean;
  /** the stage-1 config of a nested domain (dmar_domain->s1_cfg) */
  readonly s1?: { readonly flags: bigint; readonly addrWidth: number };
}

/** Where a paging domain's allocation fails: iommufd_hwpt_paging_alloc (6.7+) by default */
export interface DomainAllocSite {
  readonly fn: string;
  readonly cond: string;
}
const PAGING_ALLOC: DomainAllocSite = { fn: 'iommufd_hwpt_paging_alloc', cond: 'IS_ERR(hwpt->domain)' };

/**
 * The paging domain allocation (intel's alloc_domain / paging_domain_alloc): its kzalloc is the
 * fault point, -ENOMEM, reported at `at` (6.6's HWPT_ALLOC: iommufd_hw_pagetable_alloc's
 * iommu_domain_alloc NULL).
 */
export function allocPagingDomain(
  k: Kernel,
  task: object,
  nestedParent = false,
  dirtyOps = false,
  at: DomainAllocSite = PAGING_ALLOC,
): DmarDomain | Fail {
  if (k.fault.alloc(task, `${at.fn}: intel alloc_domain kzalloc`)) return fail('ENOMEM', at.fn, at.cond);
  return { kind: 'paging', nestedParent, dirtyOps, dirtyTracking: false };
}

type UserMm = Pick<Mm, 'copyFromUser'>;

/** copy_struct_from_user of a driver's data: EFAULT for unreadable user memory */
function readUserStruct(mm: UserMm, uptr: bigint, len: number, size: number): Uint8Array | Fail {
  const b = mm.copyFromUser(uptr, Math.min(len, size));
  if (!b) return fail('EFAULT', 'copy_struct_from_user', 'copy_from_user');
  const full = new Uint8Array(size);
  full.set(b);
  return full;
}

/**
 * intel_iommu_domain_alloc_user without a parent (6.7+): flags beyond NEST_PARENT | DIRTY_TRACKING,
 * NEST_PARENT without nested_supported, any user data, DIRTY_TRACKING without ssads_supported: all
 * -EOPNOTSUPP; then the paging domain, on which DIRTY_TRACKING needs the second stage (-EOPNOTSUPP
 * for a first-stage one, reachable only without vtd-user-domain-second-stage).
 */
export function intelDomainAllocUser(
  k: Kernel,
  task: object,
  flags: bigint,
  hasUserData: boolean,
): DmarDomain | Fail {
  const fn = 'intel_iommu_domain_alloc_user';
  if (flags & ~(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING))
    return fail('EOPNOTSUPP', fn, 'flags & ~(NEST_PARENT | DIRTY_TRACKING)');
  const nest = (flags & IOMMU_HWPT_ALLOC_NEST_PARENT) !== 0n;
  const dirty = (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) !== 0n;
  if (nest && !nestedSupported(k)) return fail('EOPNOTSUPP', fn, 'nested_parent && !nested_supported(iommu)');
  if (hasUserData || (dirty && !ssadsSupported(k)))
    return fail('EOPNOTSUPP', fn, 'user_data || (dirty_tracking && !ssads_supported(iommu))');
  const d = allocPagingDomain(k, task, nest, dirty);
  // dirty tracking is second-stage only: a first-stage domain is freed (iommu_domain_free)
  if (!('ok' in d) && dirty && userDomainFirstLevel(k))
    return fail('EOPNOTSUPP', fn, 'dirty_tracking && dmar_domain->use_first_level');
  return d;
}

/**
 * intel_iommu_domain_alloc_user with a parent: nested_supported and no flags (-EOPNOTSUPP), then
 * intel_nested_domain_alloc: data type VTD_S1 (-EOPNOTSUPP), a nest-parent parent (-EINVAL),
 * iommu_copy_struct_from_user (type, then min_len <= len <= sizeof: -EINVAL; copy -EFAULT), the
 * domain's kzalloc (-ENOMEM).
 */
export function intelNestedAlloc(
  k: Kernel,
  task: object,
  mm: UserMm,
  flags: bigint,
  parent: DmarDomain,
  data: { type: bigint; uptr: bigint; len: number },
): DmarDomain | Fail {
  if (!nestedSupported(k) || flags)
    return fail('EOPNOTSUPP', 'intel_iommu_domain_alloc_user', '!nested_supported(iommu) || flags');
  const fn = 'intel_nested_domain_alloc';
  if (data.type !== IOMMU_HWPT_DATA_VTD_S1)
    return fail('EOPNOTSUPP', fn, 'user_data->type != IOMMU_HWPT_DATA_VTD_S1');
  if (!parent.nestedParent) return fail('EINVAL', fn, '!s2_domain->nested_parent');
  const size = iommu_hwpt_vtd_s1.size;
  if (data.len < size || size < data.len)
    return fail(
      'EINVAL',
      '__iommu_copy_struct_from_user',
      'src_data->len < min_len || data_len < src_data->len',
    );
  const b = readUserStruct(mm, data.uptr, data.len, size);
  if ('ok' in b) return b;
  if (k.fault.alloc(task, 'intel_nested_domain_alloc: kzalloc domain'))
    return fail('ENOMEM', fn, '!domain (kzalloc)');
  const s1flags = readScalar(b, 0, 'u64');
  const addrWidth = Number(readScalar(b, 16, 'u32'));
  return {
    kind: 'nested',
    nestedParent: false,
    dirtyOps: false,
    dirtyTracking: false,
    s1: { flags: s1flags, addrWidth },
  };
}

/**
 * What attaching a device checks of a domain: intel_iommu_attach_device's
 * prepare_domain_attach_device (force_snooping without snoop control, dirty_ops without
 * ssads_supported: -EINVAL; one VT-d unit, so never for a domain allocated against it), and for a
 * nested domain intel_nested_attach_dev → intel_pasid_setup_nested: addr_width 48 or 57 (57 needs
 * cap FL5LP), SRE needs ecap SRS, EAFE needs ecap EAFS (-EINVAL).
 */
export function intelAttachChecks(k: Kernel, d: DmarDomain): Fail | null {
  if (d.dirtyOps && !ssadsSupported(k))
    return fail('EINVAL', 'prepare_domain_attach_device', 'domain->dirty_ops && !ssads_supported(iommu)');
  if (d.kind !== 'nested' || !d.s1) return null;
  const fn = 'intel_pasid_setup_nested';
  const { cap, ecap: e } = k.machine.iommu;
  if (d.s1.addrWidth !== 48 && !(d.s1.addrWidth === 57 && capFl5lp(cap)))
    return fail('EINVAL', fn, 's1_cfg->addr_width is neither ADDR_WIDTH_4LEVEL nor a supported 5LEVEL');
  if (d.s1.flags & IOMMU_VTD_S1_SRE && !ecap.srs(e))
    return fail('EINVAL', fn, '(s1_cfg->flags & IOMMU_VTD_S1_SRE) && !ecap_srs(iommu->ecap)');
  if (d.s1.flags & IOMMU_VTD_S1_EAFE && !ecap.eafs(e))
    return fail('EINVAL', fn, '(s1_cfg->flags & IOMMU_VTD_S1_EAFE) && !ecap_eafs(iommu->ecap)');
  return null;
}

/**
 * intel_nested_cache_invalidate_user: the array's type (-EINVAL), then each entry copied
 * (iommu_copy_struct_from_user_array: entry_len from offsetofend(__reserved) to sizeof, -EINVAL;
 * copy -EFAULT), its flags / __reserved (-EOPNOTSUPP), its address alignment (-EINVAL); returns
 * how many entries were processed with the error that stopped it.
 */
export function intelCacheInvalidateUser(
  mm: UserMm,
  array: { type: bigint; uptr: bigint; entryLen: number; entryNum: number },
): { done: number; err: Fail | null } {
  const fn = 'intel_nested_cache_invalidate_user';
  if (array.type !== IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
    return { done: 0, err: fail('EINVAL', fn, 'array->type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1') };
  const size = iommu_hwpt_vtd_s1_invalidate.size;
  let done = 0;
  for (let i = 0; i < array.entryNum; i++) {
    if (array.entryLen < size || size < array.entryLen)
      return {
        done,
        err: fail(
          'EINVAL',
          '__iommu_copy_struct_from_user',
          'src_data->len < min_len || data_len < src_data->len',
        ),
      };
    const b = mm.copyFromUser(array.uptr + BigInt(array.entryLen) * BigInt(i), size);
    if (!b) return { done, err: fail('EFAULT', 'copy_struct_from_user', 'copy_from_user') };
    const addr = readScalar(b, 0, 'u64');
    const npages = readScalar(b, 8, 'u64');
    const flags = readScalar(b, 16, 'u32');
    const reserved = readScalar(b, 20, 'u32');
    if (flags & ~IOMMU_VTD_INV_FLAGS_LEAF || reserved)
      return {
        done,
        err: fail('EOPNOTSUPP', fn, '(inv_entry.flags & ~IOMMU_VTD_INV_FLAGS_LEAF) || inv_entry.__reserved'),
      };
    if (addr % 4096n || (npages === (1n << 64n) - 1n && addr))
      return {
        done,
        err: fail('EINVAL', fn, '!IS_ALIGNED(inv_entry.addr, VTD_PAGE_SIZE) || (npages == U64_MAX && addr)'),
      };
    done++;
  }
  return { done, err: null };
}
