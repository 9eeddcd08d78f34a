// drivers/vfio/vfio_iommu_type1.c: the type1 IOMMU backend of a container (vfio.md §6):
// CHECK_EXTENSION answers, GET_INFO with its capability chain, MAP_DMA / UNMAP_DMA with the v1
// and v2 rules, dma_entry_limit, locked memory, and the VADDR flags of the CPR flow.
import type { CallCtx } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Mm } from '../../kernel/memory.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/memory.js';
import type { Process } from '../../kernel/process.js';
import { fail, ok, type SysResult } from '../../kernel/result.js';
import { copyStructFromUser } from '../../kernel/uaccess.js';
import { writeScalar } from '../../uapi/struct.js';
import {
  MINSZ,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
  vfio_iommu_type1_info,
  vfioNr,
} from '../../uapi/vfio.js';
import type { VfioGroup } from './state.js';

/** The emulated Intel IOMMU: 4K, 2M and 1G pages; the 39-bit aperture minus the MSI window. */
export const PGSIZE_BITMAP = 0x40201000n;
const MIN_PAGE = 0x1000n;
export const IOVA_RANGES: readonly (readonly [bigint, bigint])[] = [
  [0n, 0xfedfffffn],
  [0xfef00000n, 0x7fffffffffn],
];
const VFIO_TYPE1_NESTING_IOMMU = 6n;
/** DIRTY_BITMAP_SIZE_MAX */
const MAX_DIRTY_BITMAP_SIZE = 0x10000000n;
const U64_MAX = (1n << 64n) - 1n;

export interface Dma {
  readonly iova: bigint;
  readonly size: bigint;
  vaddr: bigint;
  readonly prot: number;
  vaddrInvalid: boolean;
  /** the mapping task's mm, charged with the pinned pages unless it had CAP_IPC_LOCK */
  mm: Mm;
  proc: Process;
  lockCap: boolean;
}

export interface Type1 {
  readonly v2: boolean;
  readonly nesting: boolean;
  /** sorted by iova, non-overlapping */
  readonly dmas: Dma[];
  dmaAvail: number;
  vaddrInvalidCount: number;
  readonly groups: VfioGroup[];
  /** iommu->dirty_page_tracking (VFIO_IOMMU_DIRTY_PAGES START / STOP) */
  dirtyTracking: boolean;
}

/** locked_vm of each mm, in pages (mm->locked_vm) */
function lockedVm(k: Kernel): Map<Mm, bigint> {
  let m = k.globals.get('mm-locked-vm') as Map<Mm, bigint> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('mm-locked-vm', m);
  }
  return m;
}

/** mm->locked_vm += pages; iommufd's VFIO-compatible accounting (IOPT_PAGES_ACCOUNT_MM) shares it */
export function chargeLockedVm(k: Kernel, mm: Mm, pages: bigint): void {
  const m = lockedVm(k);
  m.set(mm, (m.get(mm) ?? 0n) + pages);
}

export function lockedPages(k: Kernel, mm: Mm): bigint {
  return lockedVm(k).get(mm) ?? 0n;
}

/** vfio_iommu_type1_check_extension; `iommu` null is the question asked before SET_IOMMU. */
export function type1CheckExtension(k: Kernel, iommu: Type1 | null, ext: bigint): number {
  switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_TYPE1_NESTING_IOMMU:
      return 1;
    case VFIO_UNMAP_ALL:
      return k.profile.has('type1-vaddr') ? 1 : 0;
    case VFIO_UPDATE_VADDR:
      if (!k.profile.has('type1-vaddr')) return 0;
      // v6.3 (ef3a3f6a294b, in Debian 6.1): only with an instance and no mdev groups.
      if (k.profile.has('type1-vaddr-restricted')) return iommu ? 1 : 0;
      return 1;
    case VFIO_DMA_CC_IOMMU:
      // The emulated Intel IOMMU has no snoop control: no domain enforces coherency.
      return 0;
    default:
      return 0;
  }
}

/** vfio_iommu_type1_open: only the values it implements; anything else it claimed is EINVAL. */
export function type1Open(k: Kernel, type: bigint): Type1 | null {
  if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU && type !== VFIO_TYPE1_NESTING_IOMMU)
    return null;
  return {
    v2: type !== VFIO_TYPE1_IOMMU,
    nesting: type === VFIO_TYPE1_NESTING_IOMMU,
    dmas: [],
    dmaAvail: k.machine.limits.dma_entry_limit,
    vaddrInvalidCount: 0,
    dirtyTracking: false,
    groups: [],
  };
}

/** vfio_iommu_type1_attach_group (the checks that can fail on this machine). */
export function type1AttachGroup(k: Kernel, iommu: Type1, g: VfioGroup, proc: Process): SysResult {
  const fn = 'vfio_iommu_type1_attach_group';
  if (k.profile.has('type1-vaddr-restricted') && iommu.vaddrInvalidCount > 0)
    return fail('EBUSY', fn, 'iommu->vaddr_invalid_count');
  if (iommu.groups.includes(g)) return fail('EINVAL', fn, 'vfio_iommu_find_iommu_group(iommu, iommu_group)');
  // the allocations before any state changes (out_free_group / out_free_domain free them):
  // the vfio_iommu_group, the vfio_domain, then iommu_domain_alloc's intel alloc_domain kzalloc,
  // whose NULL is -EIO before 6.11 (ret = -EIO; !domain->domain), ERR_PTR(-ENOMEM) since
  if (k.allocFails(proc, 'vfio_iommu_type1_attach_group: kzalloc group'))
    return fail('ENOMEM', fn, '!group (kzalloc)');
  if (k.allocFails(proc, 'vfio_iommu_type1_attach_group: kzalloc domain'))
    return fail('ENOMEM', fn, '!domain (kzalloc)');
  if (k.profile.has('type1-paging-domain-alloc')) {
    if (k.allocFails(proc, 'iommu_paging_domain_alloc: intel alloc_domain kzalloc'))
      return fail('ENOMEM', fn, 'IS_ERR(domain->domain) (iommu_paging_domain_alloc)');
  } else if (k.allocFails(proc, 'iommu_domain_alloc: intel alloc_domain kzalloc')) {
    return fail('EIO', fn, '!domain->domain (iommu_domain_alloc)');
  }
  // Nesting needs the IOMMU driver's enable_nesting: VT-d has none in the 6.1 and 6.12 sources
  // (EINVAL); the older errno (intel_iommu_enable_nesting's -ENODEV) is UNVERIFIED.
  if (iommu.nesting) {
    if (k.profile.has('vtd-no-enable-nesting'))
      return fail('EINVAL', 'iommu_enable_nesting', '!domain->ops->enable_nesting');
    return fail('ENODEV', 'iommu_enable_nesting', '!ops->enable_nesting');
  }
  iommu.groups.push(g);
  return ok(0);
}

/** detach_group; the caller releases the instance when the container's last group leaves. */
export function type1DetachGroup(iommu: Type1, g: VfioGroup): void {
  const i = iommu.groups.indexOf(g);
  if (i >= 0) iommu.groups.splice(i, 1);
}

/** vfio_iommu_type1_release: every mapping is unmapped and unpinned. */
export function type1Release(k: Kernel, iommu: Type1): void {
  for (const d of [...iommu.dmas]) removeDma(k, iommu, d);
}

function removeDma(k: Kernel, iommu: Type1, d: Dma): void {
  const i = iommu.dmas.indexOf(d);
  if (i >= 0) iommu.dmas.splice(i, 1);
  if (!d.lockCap) chargeLockedVm(k, d.mm, -(d.size / MIN_PAGE));
  if (d.vaddrInvalid) iommu.vaddrInvalidCount--;
  iommu.dmaAvail++;
}

/** vfio_find_dma: any mapping overlapping [start, start+size) */
function findDma(iommu: Type1, start: bigint, size: bigint): Dma | undefined {
  return iommu.dmas.find((d) => d.iova < start + size && start < d.iova + d.size);
}

function insertDma(iommu: Type1, d: Dma): void {
  let i = 0;
  while (i < iommu.dmas.length && iommu.dmas[i]!.iova < d.iova) i++;
  iommu.dmas.splice(i, 0, d);
}

/** vfio_iommu_type1_ioctl: GET_INFO, MAP_DMA, UNMAP_DMA; anything else ENOTTY. */
export function type1Ioctl(ctx: CallCtx, iommu: Type1, cmd: number, arg: bigint): SysResult {
  if (cmd === vfioNr('VFIO_CHECK_EXTENSION')) return ok(type1CheckExtension(ctx.k, iommu, arg));
  if (cmd === vfioNr('VFIO_IOMMU_GET_INFO')) return getInfo(ctx, iommu, arg);
  if (cmd === vfioNr('VFIO_IOMMU_MAP_DMA')) return mapDma(ctx, iommu, arg);
  if (cmd === vfioNr('VFIO_IOMMU_UNMAP_DMA')) return unmapDma(ctx, iommu, arg);
  if (cmd === vfioNr('VFIO_IOMMU_DIRTY_PAGES') && ctx.k.profile.has('type1-info-caps'))
    return dirtyPages(ctx, iommu, arg);
  return fail('ENOTTY', 'vfio_iommu_type1_ioctl', 'default: -ENOTTY');
}

interface Cap {
  readonly id: number;
  readonly body: Uint8Array;
}

/** The capability chain of GET_INFO in the kernel's order: MIGRATION, DMA_AVAIL, IOVA_RANGE. */
function caps(k: Kernel, iommu: Type1): Cap[] {
  if (!k.profile.has('type1-info-caps')) return [];
  const mig = new Uint8Array(24);
  writeScalar(mig, 0, 'u32', 0n);
  writeScalar(mig, 8, 'u64', MIN_PAGE);
  writeScalar(mig, 16, 'u64', MAX_DIRTY_BITMAP_SIZE);
  const avail = new Uint8Array(4);
  writeScalar(avail, 0, 'u32', BigInt(iommu.dmaAvail));
  const iova = new Uint8Array(8 + 16 * IOVA_RANGES.length);
  writeScalar(iova, 0, 'u32', BigInt(IOVA_RANGES.length));
  IOVA_RANGES.forEach(([s, e], i) => {
    writeScalar(iova, 8 + 16 * i, 'u64', s);
    writeScalar(iova, 16 + 16 * i, 'u64', e);
  });
  return [
    { id: VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, body: mig },
    { id: VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, body: avail },
    { id: VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, body: iova },
  ];
}

/** vfio_info_cap_add + vfio_info_cap_shift: the chain laid out from `base`, `next` absolute. */
export function buildCapChain(k: Kernel, list: readonly Cap[], base: number): Uint8Array {
  const align = k.profile.has('vfio-info-cap-align');
  const sizes = list.map((c) => {
    const n = 8 + c.body.length;
    return align ? Math.ceil(n / 8) * 8 : n;
  });
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  list.forEach((c, i) => {
    const next = i + 1 < list.length ? base + off + sizes[i]! : 0;
    writeScalar(out, off, 'u16', BigInt(c.id));
    writeScalar(out, off + 2, 'u16', 1n);
    writeScalar(out, off + 4, 'u32', BigInt(next));
    out.set(c.body, off + 8);
    off += sizes[i]!;
  });
  return out;
}

/** VFIO_IOMMU_GET_INFO (vfio.md §6.3): too small an argsz for the chain still succeeds. */
function getInfo(ctx: CallCtx, iommu: Type1, arg: bigint): SysResult {
  const fn = 'vfio_iommu_type1_get_info';
  const b = ctx.proc.mm.copyFromUser(arg, MINSZ.type1_info);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&info, arg, minsz)');
  const argsz = Number(new DataView(b.buffer).getUint32(0, true));
  if (argsz < MINSZ.type1_info) return fail('EINVAL', fn, 'info.argsz < minsz');
  const withCaps = ctx.k.profile.has('type1-info-caps');
  // offsetofend(cap_offset): the kernel writes cap_offset only when the caller has room for it
  const copyLen = withCaps && argsz >= 20 ? 20 : MINSZ.type1_info;
  let flags = VFIO_IOMMU_INFO_PGSIZES;
  let outArgsz = argsz;
  let capOffset = 0;
  const list = caps(ctx.k, iommu);
  if (list.length) {
    const size = vfio_iommu_type1_info.size;
    const chain = buildCapChain(ctx.k, list, size);
    flags |= VFIO_IOMMU_INFO_CAPS;
    if (argsz < size + chain.length) outArgsz = size + chain.length;
    else {
      if (!ctx.proc.mm.copyToUser(arg + BigInt(size), chain))
        return fail('EFAULT', fn, 'copy_to_user(arg + 1, caps.buf, caps.size)');
      capOffset = size;
    }
  }
  const out = new Uint8Array(copyLen);
  writeScalar(out, 0, 'u32', BigInt(outArgsz));
  writeScalar(out, 4, 'u32', BigInt(flags));
  writeScalar(out, 8, 'u64', PGSIZE_BITMAP);
  if (copyLen >= 20) writeScalar(out, 16, 'u32', BigInt(capOffset));
  if (!ctx.proc.mm.copyToUser(arg, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &info, minsz)');
  return ok(0);
}

function mapMask(k: Kernel): bigint {
  let m = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  if (k.profile.has('type1-vaddr')) m |= VFIO_DMA_MAP_FLAG_VADDR;
  return m;
}

function iovaValid(k: Kernel, start: bigint, end: bigint): boolean {
  if (!k.profile.has('type1-iova-list')) return true;
  return IOVA_RANGES.some(([s, e]) => start >= s && end <= e);
}

/** VFIO_IOMMU_MAP_DMA: vfio_iommu_type1_map_dma, then vfio_dma_do_map (vfio.md §6.4). */
function mapDma(ctx: CallCtx, iommu: Type1, arg: bigint): SysResult {
  const k = ctx.k;
  const m = copyStructFromUser(ctx, arg, vfio_iommu_type1_dma_map);
  if (!m) return fail('EFAULT', 'vfio_iommu_type1_map_dma', 'copy_from_user(&map, arg, minsz)');
  const flags = m.flags!;
  if (m.argsz! < BigInt(MINSZ.dma_map) || flags & ~mapMask(k))
    return fail('EINVAL', 'vfio_iommu_type1_map_dma', 'map.argsz < minsz || map.flags & ~mask');
  const fn = 'vfio_dma_do_map';
  const setVaddr = (flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0n;
  const prot = (flags & VFIO_DMA_MAP_FLAG_WRITE ? 2 : 0) | (flags & VFIO_DMA_MAP_FLAG_READ ? 1 : 0);
  if ((prot && setVaddr) || (!prot && !setVaddr))
    return fail('EINVAL', fn, '(prot && set_vaddr) || (!prot && !set_vaddr)');
  const { iova, size, vaddr } = m as { iova: bigint; size: bigint; vaddr: bigint };
  if (!size || (size | iova | vaddr) & (MIN_PAGE - 1n))
    return fail('EINVAL', fn, '!size || (size | iova | vaddr) & (pgsize - 1)');
  if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX)
    return fail('EINVAL', fn, 'iova + size - 1 < iova || vaddr + size - 1 < vaddr');
  const dma = findDma(iommu, iova, size);
  if (setVaddr) {
    if (!dma) return fail('ENOENT', fn, 'set_vaddr && !vfio_find_dma()');
    if (!dma.vaddrInvalid || dma.iova !== iova || dma.size !== size)
      return fail('EINVAL', fn, '!dma->vaddr_invalid || dma->iova != iova || dma->size != size');
    if (k.profile.has('type1-vaddr-restricted')) {
      // vfio_change_dma_owner: the locked pages move to the caller's mm.
      const e = changeOwner(ctx, dma);
      if (e) return e;
    }
    dma.vaddr = vaddr;
    dma.vaddrInvalid = false;
    iommu.vaddrInvalidCount--;
    return ok(0);
  }
  if (dma) return fail('EEXIST', fn, 'vfio_find_dma(iommu, iova, size)');
  if (!iommu.dmaAvail) return fail('ENOSPC', fn, '!iommu->dma_avail');
  if (!iovaValid(k, iova, iova + size - 1n))
    return fail('EINVAL', fn, '!vfio_iommu_iova_dma_valid(iommu, iova, iova + size - 1)');
  // vfio_pin_map_dma → vfio_pin_pages_remote: every page must be there to pin.
  if (k.allocFails(ctx.proc, 'vfio_dma_do_map: kzalloc dma')) return fail('ENOMEM', fn, '!dma (kzalloc)');
  const need = prot & 2 ? PROT_WRITE : PROT_READ;
  if (!ctx.proc.mm.accessible(vaddr, Number(size), need))
    return fail('EFAULT', 'vaddr_get_pfns', 'pin_user_pages_remote() faulted');
  const lockCap = ctx.proc.capable('CAP_IPC_LOCK');
  const pages = size / MIN_PAGE;
  const limit = k.machine.limits.memlock / MIN_PAGE;
  if (!lockCap && lockedPages(k, ctx.proc.mm) + pages > limit)
    return fail('ENOMEM', 'vfio_pin_pages_remote', '!dma->lock_cap && mm->locked_vm + lock_acct + 1 > limit');
  iommu.dmaAvail--;
  insertDma(iommu, {
    iova,
    size,
    vaddr,
    prot,
    vaddrInvalid: false,
    mm: ctx.proc.mm,
    proc: ctx.proc,
    lockCap,
  });
  if (!lockCap) chargeLockedVm(k, ctx.proc.mm, pages);
  return ok(0);
}

/** vfio_change_dma_owner (v6.3 / Debian 6.1): charge the new mm before uncharging the old one. */
function changeOwner(ctx: CallCtx, dma: Dma): SysResult | null {
  if (dma.mm === ctx.proc.mm) return null;
  const k = ctx.k;
  const lockCap = ctx.proc.capable('CAP_IPC_LOCK');
  const pages = dma.size / MIN_PAGE;
  if (!lockCap && lockedPages(k, ctx.proc.mm) + pages > k.machine.limits.memlock / MIN_PAGE)
    return fail('ENOMEM', 'mm_lock_acct', 'locked_vm + npage > RLIMIT_MEMLOCK');
  if (!dma.lockCap) chargeLockedVm(k, dma.mm, -pages);
  if (!lockCap) chargeLockedVm(k, ctx.proc.mm, pages);
  dma.mm = ctx.proc.mm;
  dma.proc = ctx.proc;
  dma.lockCap = lockCap;
  return null;
}

function unmapMask(k: Kernel): bigint {
  let m = 0n;
  if (k.profile.has('type1-info-caps')) m |= VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
  if (k.profile.has('type1-vaddr')) m |= VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR;
  return m;
}

/**
 * VFIO_IOMMU_DIRTY_PAGES (vfio_iommu_type1_dirty_pages @ 6.12): v1 EACCES before the struct is
 * read; argsz / unknown flags / not exactly one flag EINVAL; START and STOP switch tracking. For
 * GET_BITMAP the checks before the bitmap itself; the bitmap is not modelled (EINVAL, said so).
 */
function dirtyPages(ctx: CallCtx, iommu: Type1, arg: bigint): SysResult {
  const fn = 'vfio_iommu_type1_dirty_pages';
  if (!iommu.v2) return fail('EACCES', fn, '!iommu->v2');
  const b = ctx.proc.mm.copyFromUser(arg, 8);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&dirty, arg, minsz)');
  const v = new DataView(b.buffer);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  if (argsz < 8 || flags & ~7) return fail('EINVAL', fn, 'dirty.argsz < minsz || dirty.flags & ~mask');
  if (flags & (flags - 1)) return fail('EINVAL', fn, '__ffs(dirty.flags) != __fls(dirty.flags)');
  if (flags === 1) {
    iommu.dirtyTracking = true;
    return ok(0);
  }
  if (flags === 2) {
    iommu.dirtyTracking = false;
    return ok(0);
  }
  if (flags === 4) {
    // struct vfio_iommu_type1_dirty_bitmap_get: iova, size, then the bitmap's pgsize, size, data
    if (argsz - 8 < 40) return fail('EINVAL', fn, '!data_size || data_size < sizeof(range)');
    const r = ctx.proc.mm.copyFromUser(arg + 8n, 40);
    if (!r) return fail('EFAULT', fn, 'copy_from_user(&range, arg + minsz, sizeof(range))');
    const rv = new DataView(r.buffer);
    const iova = rv.getBigUint64(0, true);
    const size = rv.getBigUint64(8, true);
    if (iova + size > U64_MAX) return fail('EINVAL', fn, 'range.iova + range.size < range.iova');
    if (!ctx.k.accessOk(rv.getBigUint64(32, true), rv.getBigUint64(24, true)))
      return fail('EINVAL', fn, '!access_ok(range.bitmap.data, range.bitmap.size)');
    return fail('EINVAL', fn, 'the dirty bitmap itself is not modelled');
  }
  return fail('EINVAL', fn, 'no flag: return -EINVAL');
}

/** VFIO_IOMMU_UNMAP_DMA: the size field is written back only on success (vfio.md §6.5). */
function unmapDma(ctx: CallCtx, iommu: Type1, arg: bigint): SysResult {
  const k = ctx.k;
  const front = 'vfio_iommu_type1_unmap_dma';
  const u = copyStructFromUser(ctx, arg, vfio_iommu_type1_dma_unmap);
  if (!u) return fail('EFAULT', front, 'copy_from_user(&unmap, arg, minsz)');
  const flags = u.flags!;
  if (u.argsz! < BigInt(MINSZ.dma_unmap) || flags & ~unmapMask(k))
    return fail('EINVAL', front, 'unmap.argsz < minsz || unmap.flags & ~mask');
  const all = (flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0n;
  const inval = (flags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0n;
  if (flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
    if (all || inval) return fail('EINVAL', front, 'GET_DIRTY_BITMAP && (ALL || VADDR)');
    return fail('EINVAL', front, 'unmap.argsz < minsz + sizeof(bitmap) (dirty tracking is not modelled)');
  }
  const fn = 'vfio_dma_do_unmap';
  const iova = u.iova!;
  let size = u.size!;
  if (iova & (MIN_PAGE - 1n)) return fail('EINVAL', fn, 'iova & (pgsize - 1)');
  if (all) {
    if (iova || size) return fail('EINVAL', fn, 'unmap_all && (iova || size)');
    size = U64_MAX;
  } else if (!size || size & (MIN_PAGE - 1n) || iova + size - 1n > U64_MAX) {
    return fail('EINVAL', fn, '!size || size & (pgsize - 1) || iova + size - 1 < iova');
  }
  const end = all ? U64_MAX + 1n : iova + size;
  if (iommu.v2 && !all) {
    const first = findDma(iommu, iova, 1n);
    if (first && first.iova !== iova) return fail('EINVAL', fn, 'v2: dma && dma->iova != iova (bisected)');
    const last = findDma(iommu, iova + size - 1n, 1n);
    if (last && last.iova + last.size !== iova + size)
      return fail('EINVAL', fn, 'v2: dma && dma->iova + dma->size != iova + size (bisected)');
  }
  let unmapped = 0n;
  const inRange = iommu.dmas.filter((d) => d.iova < end && iova < d.iova + d.size);
  const marked: Dma[] = [];
  for (const d of inRange) {
    if (!iommu.v2 && iova > d.iova) break;
    // Before v6.3 only the mm that created a mapping may unmap it: the walk stops silently.
    if (k.profile.has('type1-unmap-own-mm') && d.mm !== ctx.proc.mm) break;
    if (inval) {
      if (d.vaddrInvalid) {
        for (const x of marked) {
          x.vaddrInvalid = false;
          iommu.vaddrInvalidCount--;
        }
        return fail('EINVAL', fn, 'invalidate_vaddr && dma->vaddr_invalid');
      }
      d.vaddrInvalid = true;
      iommu.vaddrInvalidCount++;
      marked.push(d);
      unmapped += d.size;
      continue;
    }
    unmapped += d.size;
    removeDma(k, iommu, d);
  }
  const back = new Uint8Array(8);
  writeScalar(back, 0, 'u64', unmapped);
  if (!ctx.proc.mm.copyToUser(arg + 16n, back))
    return fail('EFAULT', front, 'copy_to_user(arg, &unmap, minsz)');
  return ok(0);
}

/** The emulated-vs-real question of the seed stories: mappings still pinned for this container. */
export function describeMappings(iommu: Type1): string {
  const bytes = iommu.dmas.reduce((a, d) => a + d.size, 0n);
  return `${iommu.dmas.length} DMA mapping(s), 0x${bytes.toString(16)} bytes pinned`;
}
