// drivers/iommu/iommufd/io_pagetable.c and pages.c at 6.12: the io_pagetable of an IOAS as both
// IOMMU_IOAS_MAP / UNMAP and the VFIO compat container (vfio-compat.ts) use it. What the uAPI can
// see: the IOVA alignment (1 until a domain or TYPE1's disable_large_pages asks for pages), the
// reserved ranges a domain brings (the aperture's end and the device's MSI window), pinning only
// while a domain exists, and locked-memory accounting to the mm (VFIO's mode) or the user.
import type { Kernel } from '../../kernel/kernel.js';
import { type Mm, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../kernel/memory.js';
import { type Fail, fail } from '../../kernel/result.js';
import { chargeLockedVm, IOVA_RANGES, lockedPages } from '../vfio/type1.js';
import type { Area, Ioas, IommufdCtx } from './iommufd.js';

export const ULONG_MAX = (1n << 64n) - 1n;
const SIZE_MAX = ULONG_MAX;

/** IOPT_PAGES_ACCOUNT_MM (VFIO compatible, /dev/vfio/vfio) or _USER (/dev/iommu) */
export type AccountMode = 'mm' | 'user';

/** Some HWPT (an iommu_domain) of this context is built on the IOAS. */
export function ioasHasDomain(ictx: IommufdCtx, ioas: Ioas): boolean {
  for (const o of ictx.objects.values()) if (o.type === 'hwpt' && o.ioas === ioas) return true;
  return false;
}

/** iopt_calculate_iova_alignment: the emulated VT-d domain's smallest page is PAGE_SIZE. */
export function iovaAlignment(ictx: IommufdCtx, ioas: Ioas): bigint {
  return ioas.disableLargePages || ioasHasDomain(ictx, ioas) ? PAGE_SIZE : 1n;
}

/**
 * The reserved_itree: iopt_table_add_domain reserves what lies beyond the aperture and
 * iopt_table_enforce_dev_resv_regions the device's MSI window; with no domain nothing.
 */
export function reservedRanges(ictx: IommufdCtx, ioas: Ioas): [bigint, bigint][] {
  if (!ioasHasDomain(ictx, ioas)) return [];
  const out: [bigint, bigint][] = [];
  // the MSI window is the devices' (iopt_table_enforce_dev_resv_regions at attach): an explicit
  // HWPT (IOMMU_HWPT_ALLOC) adds its domain, and so only the aperture, before any device attaches
  if (ioasHasDevice(ictx, ioas)) out.push([MSI_WINDOW[0], MSI_WINDOW[1]]);
  out.push([APERTURE_END + 1n, ULONG_MAX]);
  return out;
}

/** Some device is attached to a HWPT whose paging domain is built on the IOAS (its own, or a nested one's parent). */
export function ioasHasDevice(ictx: IommufdCtx, ioas: Ioas): boolean {
  for (const o of ictx.objects.values()) {
    if (o.type !== 'device' || !o.hwpt) continue;
    const paging = o.hwpt.type === 'hwpt' ? o.hwpt : o.hwpt.parent;
    if (paging.ioas === ioas) return true;
  }
  return false;
}

/** The holes of the reserved tree, as the compat GET_INFO's IOVA_RANGE reports them. */
export function iovaHoles(ictx: IommufdCtx, ioas: Ioas): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  let next = 0n;
  for (const [s, e] of reservedRanges(ictx, ioas)) {
    if (s > next) out.push([next, s - 1n]);
    next = e + 1n;
  }
  if (next <= ULONG_MAX) out.push([next, ULONG_MAX]);
  return out;
}

const overlaps = (a: Area, s: bigint, e: bigint) => a.iova <= e && s <= a.iova + a.length - 1n;

/** pages->npages: the pages the user range touches */
function npages(a: Area): bigint {
  const off = a.uptr % PAGE_SIZE;
  return (a.length + off + PAGE_SIZE - 1n) / PAGE_SIZE;
}

function userLockedVm(k: Kernel): { pages: bigint } {
  let u = k.globals.get('iommufd-user-locked-vm') as { pages: bigint } | undefined;
  if (!u) {
    u = { pages: 0n };
    k.globals.set('iommufd-user-locked-vm', u);
  }
  return u;
}

/**
 * pfn_reader_user_pin + do_update_pinned: pin the user pages (EFAULT where nothing is mapped)
 * and charge them; CAP_IPC_LOCK at map time made the pages IOPT_PAGES_ACCOUNT_NONE.
 */
export function pinArea(k: Kernel, a: Area): Fail | null {
  if (a.pinned) return null;
  const need = a.writable ? PROT_WRITE : PROT_READ;
  if (!a.mm.accessible(a.uptr, Number(a.length), need))
    return fail('EFAULT', 'pfn_reader_user_pin', 'pin_user_pages_remote() faulted');
  const n = npages(a);
  const limit = k.machine.limits.memlock / PAGE_SIZE;
  if (a.account === 'mm') {
    if (lockedPages(k, a.mm) + n > limit)
      return fail(
        'ENOMEM',
        '__account_locked_vm',
        'locked_vm + npages > RLIMIT_MEMLOCK (IOPT_PAGES_ACCOUNT_MM)',
      );
    chargeLockedVm(k, a.mm, n);
  } else if (a.account === 'user') {
    const u = userLockedVm(k);
    if (u.pages + n > limit)
      return fail('ENOMEM', 'incr_user_locked_vm', 'user->locked_vm + npages > RLIMIT_MEMLOCK');
    u.pages += n;
  }
  a.pinned = true;
  return null;
}

export function unpinArea(k: Kernel, a: Area): void {
  if (!a.pinned) return;
  a.pinned = false;
  if (a.account === 'mm') chargeLockedVm(k, a.mm, -npages(a));
  else if (a.account === 'user') userLockedVm(k).pages -= npages(a);
}

export interface MapRequest {
  readonly iova: bigint;
  readonly uptr: bigint;
  readonly length: bigint;
  readonly writable: boolean;
  readonly mm: Mm;
  /** capable(CAP_IPC_LOCK) of the mapping task */
  readonly lockCap: boolean;
}

/** iopt_alloc_pages: the length and the user range (before any IOVA check). */
export function checkPages(r: { uptr: bigint; length: bigint }): Fail | null {
  if (r.length > SIZE_MAX - PAGE_SIZE || r.length === 0n)
    return fail('EINVAL', 'iopt_alloc_pages', 'length > SIZE_MAX - PAGE_SIZE || length == 0');
  if (r.uptr + r.length > ULONG_MAX)
    return fail('EOVERFLOW', 'iopt_alloc_pages', 'check_add_overflow(uptr, length, &end)');
  return null;
}

/**
 * iopt_map_user_pages' allocations after iopt_alloc_pages' checks: the iopt_pages kzalloc, then
 * iopt_alloc_area_pages' iopt_area_alloc (before the length alignment check); -ENOMEM, both freed.
 */
export function mapAllocFails(k: Kernel, r: { mm: Mm }): Fail | null {
  if (k.fault.alloc(r.mm, 'iopt_alloc_pages: kzalloc pages'))
    return fail('ENOMEM', 'iopt_alloc_pages', '!pages (kzalloc)');
  if (k.fault.alloc(r.mm, 'iopt_alloc_area_pages: iopt_area_alloc kzalloc'))
    return fail('ENOMEM', 'iopt_alloc_area_pages', '!elm->area (iopt_area_alloc)');
  return null;
}

/**
 * iopt_map_user_pages at a fixed IOVA: iopt_alloc_pages, iopt_alloc_area_pages (length
 * alignment), iopt_check_iova (alignment, overflow, reserved EINVAL, overlap EEXIST),
 * iopt_insert_area (the page offset's alignment), then iopt_fill_domains_pages, which pins only
 * when the IOAS has a domain.
 */
export function mapFixed(k: Kernel, ictx: IommufdCtx, ioas: Ioas, r: MapRequest): Fail | Area {
  const bad = checkPages(r) ?? mapAllocFails(k, r);
  if (bad) return bad;
  const align = iovaAlignment(ictx, ioas);
  const afn = 'iopt_alloc_area_pages';
  if (r.length % align) return fail('EINVAL', afn, '(length & (iopt->iova_alignment - 1)) || !length');
  const cfn = 'iopt_check_iova';
  if (r.iova % align) return fail('EINVAL', cfn, 'iova & (iopt->iova_alignment - 1)');
  const last = r.iova + r.length - 1n;
  if (last > ULONG_MAX) return fail('EOVERFLOW', cfn, 'check_add_overflow(iova, length - 1, &last)');
  if (reservedRanges(ictx, ioas).some(([s, e]) => s <= last && r.iova <= e))
    return fail('EINVAL', cfn, 'iopt_reserved_iter_first(iopt, iova, last)');
  if (ioas.areas.some((a) => overlaps(a, r.iova, last)))
    return fail('EEXIST', cfn, 'iopt_area_iter_first(iopt, iova, last)');
  if ((r.uptr % PAGE_SIZE) % align)
    return fail('EINVAL', 'iopt_insert_area', 'area->page_offset & (iopt->iova_alignment - 1)');
  return insertArea(k, ictx, ioas, r, r.iova);
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

/** HPAGE_SIZE on x86-64: Debian builds CONFIG_TRANSPARENT_HUGEPAGE, iopt_alloc_iova's max_alignment */
const HPAGE_SIZE = 0x200000n;

function roundupPowOfTwo(x: bigint): bigint {
  let p = 1n;
  while (p < x) p <<= 1n;
  return p;
}

/** ALIGN(x, a) for a power of two, wrapping as unsigned long does */
const alignUp = (x: bigint, a: bigint) => (x + a - 1n) & ~(a - 1n) & ULONG_MAX;

/**
 * IOMMU_IOAS_MAP without FIXED_IOVA: iopt_alloc_area_pages' length check, then iopt_alloc_iova.
 * The IOVA keeps the alignment the user address has, up to roundup_pow_of_two(length) and at most
 * HPAGE_SIZE, plus its page offset; it is the first hole of the reserved and area trees inside
 * [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] (no IOAS_ALLOW_IOVAS: the allowed tree is empty) that fits.
 */
export function allocIova(ictx: IommufdCtx, ioas: Ioas, uptr: bigint, length: bigint): bigint | Fail {
  const iopt = iovaAlignment(ictx, ioas);
  if (length % iopt || !length)
    return fail('EINVAL', 'iopt_alloc_area_pages', '(length & (iopt->iova_alignment - 1)) || !length');
  const fn = 'iopt_alloc_iova';
  if (length >= ULONG_MAX / 2n) return fail('EOVERFLOW', fn, 'length == 0 || length >= ULONG_MAX / 2');
  const pageOffset = uptr % PAGE_SIZE;
  const pow = roundupPowOfTwo(length);
  let align = uptr === 0n ? pow : minBig(pow, uptr & -uptr);
  if (align >= HPAGE_SIZE) align = HPAGE_SIZE;
  if (align < iopt) return fail('EINVAL', fn, 'iova_alignment < iopt->iova_alignment');
  // __alloc_iova_check_used on the one allowed span
  const start = alignUp(PAGE_SIZE, align) | pageOffset;
  const last = ULONG_MAX - PAGE_SIZE;
  const fits = (s: bigint, e: bigint) => s <= e && e - s >= length - 1n;
  if (fits(start, last)) {
    const used = [
      ...reservedRanges(ictx, ioas),
      ...ioas.areas.map((a): [bigint, bigint] => [a.iova, a.iova + a.length - 1n]),
    ].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    // interval_tree_for_each_double_span: the holes between used spans, in IOVA order
    let cur = start;
    const holes: [bigint, bigint][] = [];
    for (const [s, e] of used) {
      if (e < cur) continue;
      if (s > last) break;
      if (s > cur) holes.push([cur, s - 1n]);
      cur = e + 1n;
      if (cur > last) break;
    }
    if (cur <= last) holes.push([cur, last]);
    for (const [hs, he] of holes) {
      // __alloc_iova_check_hole
      if (!fits(hs, he)) continue;
      const iova = alignUp(hs, align) | pageOffset;
      if (fits(iova, he)) return iova;
    }
  }
  return fail('ENOSPC', fn, 'no hole of the allowed ranges fits');
}

/** The area, pinned now if a domain is there (its failure undoes the insert). */
export function insertArea(
  k: Kernel,
  ictx: IommufdCtx,
  ioas: Ioas,
  r: MapRequest,
  iova: bigint,
): Fail | Area {
  const a: Area = {
    iova,
    length: r.length,
    uptr: r.uptr,
    writable: r.writable,
    mm: r.mm,
    account: r.lockCap ? 'none' : ictx.accountMode,
    pinned: false,
  };
  if (ioasHasDomain(ictx, ioas)) {
    const e = pinArea(k, a);
    if (e) return e;
  }
  ioas.areas.push(a);
  return a;
}

/**
 * iopt_unmap_iova_range: every area in [start, last] must lie inside it (else ENOENT, keeping
 * what was unmapped so far). Nothing there was ENOENT until afb47765f923 made it success.
 */
export function unmapRange(
  k: Kernel,
  ioas: Ioas,
  start: bigint,
  last: bigint,
): { err: Fail | null; unmapped: bigint } {
  const fn = 'iopt_unmap_iova_range';
  let unmapped = 0n;
  const hit = ioas.areas.filter((a) => overlaps(a, start, last)).sort((x, y) => (x.iova < y.iova ? -1 : 1));
  for (const a of hit) {
    if (a.iova < start || a.iova + a.length - 1n > last)
      return { err: fail('ENOENT', fn, 'area_first < start || area_last > last'), unmapped };
    unpinArea(k, a);
    ioas.areas.splice(ioas.areas.indexOf(a), 1);
    unmapped += a.length;
  }
  if (!unmapped && !k.profile.has('iommufd-compat-unmap-empty'))
    return { err: fail('ENOENT', fn, 'rc = -ENOENT: nothing was mapped in the range'), unmapped };
  return { err: null, unmapped };
}

/** iopt_unmap_iova: length 0 EINVAL, a wrapping range EOVERFLOW, then the range walk. */
export function unmapIova(
  k: Kernel,
  ioas: Ioas,
  iova: bigint,
  length: bigint,
): { err: Fail | null; unmapped: bigint } {
  if (!length) return { err: fail('EINVAL', 'iopt_unmap_iova', '!length'), unmapped: 0n };
  if (iova + length - 1n > ULONG_MAX)
    return {
      err: fail('EOVERFLOW', 'iopt_unmap_iova', 'check_add_overflow(iova, length - 1)'),
      unmapped: 0n,
    };
  return unmapRange(k, ioas, iova, iova + length - 1n);
}

/** iopt_unmap_all: an empty IOAS is success in every release (the old code mapped ENOENT to 0). */
export function unmapAll(k: Kernel, ioas: Ioas): { err: Fail | null; unmapped: bigint } {
  const r = unmapRange(k, ioas, 0n, ULONG_MAX);
  return r.err?.errno === 'ENOENT' ? { err: null, unmapped: r.unmapped } : r;
}

/**
 * iopt_cut_iova → iopt_area_split: splits the area holding `iova` into [start, iova] and
 * [iova + 1, last] (TYPE1's partial unmap); a cut off the alignment is EINVAL.
 */
export function cutIova(ictx: IommufdCtx, ioas: Ioas, iova: bigint): Fail | null {
  const a = ioas.areas.find((x) => overlaps(x, iova, iova));
  if (!a) return null;
  const last = a.iova + a.length - 1n;
  if (iova === a.iova || iova === last) return null;
  const align = iovaAlignment(ictx, ioas);
  const newStart = iova + 1n;
  const startByte = a.uptr + (newStart - a.iova);
  if (newStart % align || (startByte % PAGE_SIZE) % align)
    return fail('EINVAL', 'iopt_area_split', 'new_start & (alignment - 1)');
  const lhsLen = newStart - a.iova;
  const i = ioas.areas.indexOf(a);
  const lhs: Area = { ...a, length: lhsLen };
  const rhs: Area = { ...a, iova: newStart, length: a.length - lhsLen, uptr: a.uptr + lhsLen };
  ioas.areas.splice(i, 1, lhs, rhs);
  return null;
}

/** The VT-d reserved region the emulated devices report: IOMMU_RESV_MSI, the gap of IOVA_RANGES. */
const MSI_WINDOW: readonly [bigint, bigint] = [IOVA_RANGES[0]![1] + 1n, IOVA_RANGES[1]![0] - 1n];
/** domain->geometry.aperture_end (aperture_start is 0) */
const APERTURE_END = IOVA_RANGES[IOVA_RANGES.length - 1]![1];

const hits = (ioas: Ioas, s: bigint, e: bigint) => ioas.areas.some((a) => overlaps(a, s, e));

/**
 * iopt_table_enforce_dev_resv_regions of a device attach (iommufd_device_attach_reserved_iova):
 * the device's MSI window is reserved, iopt_reserve_iova EADDRINUSE over an area.
 */
export function enforceDevResv(ioas: Ioas): Fail | null {
  if (hits(ioas, MSI_WINDOW[0], MSI_WINDOW[1]))
    return fail(
      'EADDRINUSE',
      'iopt_reserve_iova',
      'iopt_area_iter_first(iopt, start, last): an area in the MSI window',
    );
  return null;
}

/**
 * iopt_table_add_domain of the IOAS's first domain: the areas checked against the new alignment
 * (iopt_check_iova_alignment EADDRINUSE, only when it grows: not after TYPE1's
 * disable_large_pages), what lies past the aperture reserved (EADDRINUSE again), and
 * iopt_fill_domain pins every area, a failure undoing the pins made. A later domain of the same
 * VT-d changes no alignment, reserves the same range and maps pages already pinned.
 */
export function addDomain(k: Kernel, first: boolean, ioas: Ioas): Fail | null {
  if (!first) return null;
  if (!ioas.disableLargePages)
    for (const a of ioas.areas)
      if (a.iova % PAGE_SIZE || a.length % PAGE_SIZE || a.uptr % PAGE_SIZE)
        return fail('EADDRINUSE', 'iopt_check_iova_alignment', 'area not aligned to the domain page size');
  if (hits(ioas, APERTURE_END + 1n, ULONG_MAX))
    return fail(
      'EADDRINUSE',
      'iopt_reserve_iova',
      'iopt_area_iter_first(iopt, start, last): an area past aperture_end',
    );
  const done: Area[] = [];
  // iopt_fill_domain walks the area tree in IOVA order
  for (const a of [...ioas.areas].sort((x, y) => (x.iova < y.iova ? -1 : 1))) {
    const e = pinArea(k, a);
    if (e) {
      for (const d of done) unpinArea(k, d);
      return e;
    }
    done.push(a);
  }
  return null;
}

/** iopt_table_remove_domain of the last domain: the pages are unpinned. */
export function removeLastDomain(k: Kernel, ioas: Ioas): void {
  for (const a of ioas.areas) unpinArea(k, a);
}
