// drivers/iommu/iommufd/io_pagetable.c and pages.c at 6.12: the io_pagetable of an IOAS as
// IOMMU_IOAS_MAP / UNMAP / COPY / ALLOW_IOVAS and the VFIO compat container (vfio-compat.ts) use
// it. What the uAPI can see: the IOVA alignment (1 until a domain or disable_large_pages asks for
// pages), the reserved ranges a domain brings (the aperture's end and the device's MSI window), the
// allowed ranges IOVA allocation keeps to, iopt_pages shared by the areas IOAS_COPY makes, pinning
// only while a domain maps an area (each page of an iopt_pages pinned and charged once), and
// locked-memory accounting to the mm (VFIO's mode) or the user.
import type { Kernel } from '../../kernel/kernel.js';
import { type Mm, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../kernel/memory.js';
import { type Fail, fail } from '../../kernel/result.js';
import { chargeLockedVm, IOVA_RANGES, lockedPages } from '../vfio/type1.js';
import { type Area, hwptPaging, type Ioas, type IommufdCtx, type IoptPages } from './iommufd.js';

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
    if (o.type === 'device' && o.hwpt && hwptPaging(o.hwpt).ioas === ioas) return true;
  }
  return false;
}

/** The holes of the reserved tree, as the compat GET_INFO's IOVA_RANGE reports them. */
export function iovaHoles(ictx: IommufdCtx, ioas: Ioas): [bigint, bigint][] {
  // reservedRanges is sorted and disjoint
  return uncovered(0n, ULONG_MAX, reservedRanges(ictx, ioas));
}

const overlaps = (a: Area, s: bigint, e: bigint) => a.iova <= e && s <= a.iova + a.length - 1n;

/** The page indexes of `pages` an area covers: pages_node [start, last] */
function pageSpan(a: Area): [bigint, bigint] {
  const first = a.uptr - a.pages.uptr;
  return [first / PAGE_SIZE, (first + a.length - 1n) / PAGE_SIZE];
}

/** The union of the page spans of the areas that pin `pages`, merged and in order. */
function pinnedSpans(pages: IoptPages, without?: Area): [bigint, bigint][] {
  const spans = [...pages.pinnedBy].filter((a) => a !== without).map(pageSpan);
  return usedSpans(spans, 0n, ULONG_MAX);
}

/** interval_tree_for_each_span's used spans of `ranges` inside [first, last]: merged where they touch */
function usedSpans(
  ranges: readonly (readonly [bigint, bigint])[],
  first: bigint,
  last: bigint,
): [bigint, bigint][] {
  const sorted = ranges
    .filter(([s, e]) => s <= last && e >= first)
    .map(([s, e]): [bigint, bigint] => [s < first ? first : s, e > last ? last : e])
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [s, e] of sorted) {
    const prev = out[out.length - 1];
    if (prev && s <= prev[1] + 1n) {
      if (e > prev[1]) prev[1] = e;
    } else out.push([s, e]);
  }
  return out;
}

const spanPages = (spans: [bigint, bigint][]) => spans.reduce((n, [s, e]) => n + e - s + 1n, 0n);

/** The parts of [s, e] no span covers (`spans` sorted by start, as usedSpans gives them). */
function uncovered(s: bigint, e: bigint, spans: [bigint, bigint][]): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  let cur = s;
  for (const [a, b] of spans) {
    if (b < cur) continue;
    if (a > e) break;
    if (a > cur) out.push([cur, a - 1n]);
    cur = b + 1n;
    if (cur > e) return out;
  }
  if (cur <= e) out.push([cur, e]);
  return out;
}

function userLockedVm(k: Kernel): { pages: bigint } {
  let u = k.globals.get('iommufd-user-locked-vm') as { pages: bigint } | undefined;
  if (!u) {
    u = { pages: 0n };
    k.globals.set('iommufd-user-locked-vm', u);
  }
  return u;
}

/** source_user->locked_vm of IOPT_PAGES_ACCOUNT_USER (one user on the emulated machine) */
export function userLockedPages(k: Kernel): bigint {
  return userLockedVm(k).pages;
}

/**
 * iopt_area_fill_domain's pfn_reader: the pages some other area of the same iopt_pages already
 * holds in a domain are read from there; the rest pfn_reader_user_pin pins (EFAULT where nothing is
 * mapped, FOLL_WRITE when pages->writable) and do_update_pinned charges (ENOMEM past
 * RLIMIT_MEMLOCK); CAP_IPC_LOCK at map time made the pages IOPT_PAGES_ACCOUNT_NONE.
 */
export function pinArea(k: Kernel, a: Area): Fail | null {
  if (a.pinned) return null;
  const p = a.pages;
  const [first, last] = pageSpan(a);
  const fresh = uncovered(first, last, pinnedSpans(p));
  const need = p.writable ? PROT_WRITE : PROT_READ;
  for (const [s, e] of fresh) {
    if (!p.mm.accessible(p.uptr + s * PAGE_SIZE, Number((e - s + 1n) * PAGE_SIZE), need))
      return fail('EFAULT', 'pfn_reader_user_pin', 'pin_user_pages_remote() faulted');
  }
  const n = spanPages(fresh);
  const limit = k.machine.limits.memlock / PAGE_SIZE;
  if (n && p.account === 'mm') {
    if (lockedPages(k, p.mm) + n > limit)
      return fail(
        'ENOMEM',
        '__account_locked_vm',
        'locked_vm + npages > RLIMIT_MEMLOCK (IOPT_PAGES_ACCOUNT_MM)',
      );
    chargeLockedVm(k, p.mm, n);
  } else if (n && p.account === 'user') {
    const u = userLockedVm(k);
    if (u.pages + n > limit)
      return fail('ENOMEM', 'incr_user_locked_vm', 'user->locked_vm + npages > RLIMIT_MEMLOCK');
    u.pages += n;
  }
  p.pinnedBy.add(a);
  a.pinned = true;
  return null;
}

/** iopt_area_unfill_domain: only the pages no other area of the iopt_pages holds are unpinned. */
export function unpinArea(k: Kernel, a: Area): void {
  if (!a.pinned) return;
  const p = a.pages;
  const n = spanPages(pinnedSpans(p)) - spanPages(pinnedSpans(p, a));
  p.pinnedBy.delete(a);
  a.pinned = false;
  if (p.account === 'mm') chargeLockedVm(k, p.mm, -n);
  else if (p.account === 'user') userLockedVm(k).pages -= n;
}

/**
 * Pins `areas` in order (pinArea); on a failure the ones pinned before it are unpinned again
 * (iopt_fill_domains_pages' / iopt_fill_domain's unwind) and the failure returned.
 */
function pinAll(k: Kernel, areas: readonly Area[]): Fail | null {
  for (const [i, a] of areas.entries()) {
    const e = pinArea(k, a);
    if (e) {
      for (const d of areas.slice(0, i)) unpinArea(k, d);
      return e;
    }
  }
  return null;
}

/** iopt_check_iova_alignment's refusal at PAGE_SIZE: the area's iova, length or page offset is off it */
const offPageSize = (a: Area) =>
  a.iova % PAGE_SIZE !== 0n || a.length % PAGE_SIZE !== 0n || a.uptr % PAGE_SIZE !== 0n;

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
function checkPages(r: { uptr: bigint; length: bigint }): Fail | null {
  if (r.length > SIZE_MAX - PAGE_SIZE || r.length === 0n)
    return fail('EINVAL', 'iopt_alloc_pages', 'length > SIZE_MAX - PAGE_SIZE || length == 0');
  if (r.uptr + r.length > ULONG_MAX)
    return fail('EOVERFLOW', 'iopt_alloc_pages', 'check_add_overflow(uptr, length, &end)');
  return null;
}

/**
 * iopt_alloc_pages after its checks: the kzalloc, then the account mode: NONE with CAP_IPC_LOCK,
 * else USER, raised to MM by iopt_map_user_pages when the context accounts to the mm.
 */
function allocPages(k: Kernel, ictx: IommufdCtx, r: MapRequest): IoptPages | Fail {
  if (k.fault.alloc(r.mm, 'iopt_alloc_pages: kzalloc pages'))
    return fail('ENOMEM', 'iopt_alloc_pages', '!pages (kzalloc)');
  const uptr = r.uptr - (r.uptr % PAGE_SIZE);
  return {
    uptr,
    npages: (r.length + (r.uptr - uptr) + PAGE_SIZE - 1n) / PAGE_SIZE,
    writable: r.writable,
    mm: r.mm,
    account: r.lockCap ? 'none' : ictx.accountMode,
    pinnedBy: new Set(),
  };
}

/** One struct iopt_pages_list entry: a slice of an iopt_pages, from the user address `uptr`. */
export interface PagesSlice {
  readonly pages: IoptPages;
  readonly uptr: bigint;
  readonly length: bigint;
}

/** iopt_check_iova: alignment, overflow, a reserved range EINVAL, an area there EEXIST. */
function checkIova(ictx: IommufdCtx, ioas: Ioas, iova: bigint, length: bigint): Fail | null {
  const cfn = 'iopt_check_iova';
  if (iova % iovaAlignment(ictx, ioas)) return fail('EINVAL', cfn, 'iova & (iopt->iova_alignment - 1)');
  const last = iova + length - 1n;
  if (last > ULONG_MAX) return fail('EOVERFLOW', cfn, 'check_add_overflow(iova, length - 1, &last)');
  if (reservedRanges(ictx, ioas).some(([s, e]) => s <= last && iova <= e))
    return fail('EINVAL', cfn, 'iopt_reserved_iter_first(iopt, iova, last)');
  if (ioas.areas.some((a) => overlaps(a, iova, last)))
    return fail('EEXIST', cfn, 'iopt_area_iter_first(iopt, iova, last)');
  return null;
}

/**
 * iopt_map_pages: iopt_alloc_area_pages (an iopt_area_alloc per slice, the length alignment, then
 * iopt_alloc_iova or iopt_check_iova, then iopt_insert_area per slice: a writable area of pages
 * pinned read-only EPERM, the page offset off the alignment EINVAL), then iopt_fill_domains_pages,
 * which pins only when the IOAS has a domain and undoes the slices filled before a failure. `iova`
 * null allocates (IOPT_ALLOC_IOVA, guided by the first slice's user address); `mm` is the calling
 * task's, whose allocations fail.
 */
export function mapPages(
  k: Kernel,
  ictx: IommufdCtx,
  ioas: Ioas,
  slices: readonly PagesSlice[],
  length: bigint,
  iova: bigint | null,
  writable: boolean,
  mm: Mm,
): Fail | Area[] {
  const afn = 'iopt_alloc_area_pages';
  for (const _ of slices) {
    if (k.fault.alloc(mm, 'iopt_alloc_area_pages: iopt_area_alloc kzalloc'))
      return fail('ENOMEM', afn, '!elm->area (iopt_area_alloc)');
  }
  const align = iovaAlignment(ictx, ioas);
  if (length % align || !length)
    return fail('EINVAL', afn, '(length & (iopt->iova_alignment - 1)) || !length');
  let at: bigint;
  if (iova === null) {
    const got = allocIova(k, ictx, ioas, slices[0]!.uptr, length);
    if (typeof got !== 'bigint') return got;
    at = got;
  } else {
    const e = checkIova(ictx, ioas, iova, length);
    if (e) return e;
    at = iova;
  }
  const areas: Area[] = [];
  const ifn = 'iopt_insert_area';
  for (const sl of slices) {
    if (writable && !sl.pages.writable)
      return fail('EPERM', ifn, '(iommu_prot & IOMMU_WRITE) && !pages->writable');
    if ((sl.uptr % PAGE_SIZE) % align)
      return fail('EINVAL', ifn, 'area->page_offset & (iopt->iova_alignment - 1)');
    areas.push({ iova: at, length: sl.length, uptr: sl.uptr, writable, pages: sl.pages, pinned: false });
    at += sl.length;
  }
  if (ioasHasDomain(ictx, ioas)) {
    const e = pinAll(k, areas);
    if (e) return e;
  }
  ioas.areas.push(...areas);
  return areas;
}

/**
 * iopt_map_user_pages: iopt_alloc_pages (length, overflow, kzalloc), then iopt_map_pages with the
 * one slice; `fixed` is !IOPT_ALLOC_IOVA (r.iova used as given).
 */
export function mapUserPages(
  k: Kernel,
  ictx: IommufdCtx,
  ioas: Ioas,
  r: MapRequest,
  fixed: boolean,
): Fail | Area {
  const bad = checkPages(r);
  if (bad) return bad;
  const pages = allocPages(k, ictx, r);
  if ('ok' in pages) return pages;
  const areas = mapPages(
    k,
    ictx,
    ioas,
    [{ pages, uptr: r.uptr, length: r.length }],
    r.length,
    fixed ? r.iova : null,
    r.writable,
    r.mm,
  );
  return 'ok' in areas ? areas : areas[0]!;
}

/**
 * iopt_get_pages: the areas that cover [iova, iova + length - 1] contiguously from the one holding
 * iova (a kzalloc'd iopt_pages_list entry each, sharing the area's iopt_pages); a gap is ENOENT.
 */
export function getPages(k: Kernel, ioas: Ioas, iova: bigint, length: bigint, mm: Mm): Fail | PagesSlice[] {
  const fn = 'iopt_get_pages';
  if (!length) return fail('EINVAL', fn, '!length');
  const last = iova + length - 1n;
  if (last > ULONG_MAX) return fail('EOVERFLOW', fn, 'check_add_overflow(iova, length - 1, &last_iova)');
  const out: PagesSlice[] = [];
  let cur = iova;
  // iopt_area_contig_init finds the area holding iova; iopt_area_contig_next one starting at cur
  let area = ioas.areas.find((a) => overlaps(a, cur, cur));
  while (area) {
    if (k.fault.alloc(mm, 'iopt_get_pages: kzalloc elm')) return fail('ENOMEM', fn, '!elm (kzalloc)');
    const aLast = area.iova + area.length - 1n;
    const end = last < aLast ? last : aLast;
    out.push({ pages: area.pages, uptr: area.uptr + (cur - area.iova), length: end - cur + 1n });
    if (last <= aLast) return out;
    cur = aLast + 1n;
    area = ioas.areas.find((a) => a.iova === cur);
  }
  return fail('ENOENT', fn, '!iopt_area_contig_done(&iter)');
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
 * iopt_alloc_iova (IOAS_MAP / IOAS_COPY without FIXED_IOVA). The IOVA keeps the alignment the
 * user address has, up to roundup_pow_of_two(length) (capped at HPAGE_SIZE from "Prevent ALIGN()
 * overflow"), plus its page offset. Each used span of the allowed tree inside [PAGE_SIZE,
 * ULONG_MAX - PAGE_SIZE] (the whole of it while the tree is empty) is checked, aligned, and its
 * first hole of the reserved and area trees that fits is the IOVA.
 */
export function allocIova(
  k: Kernel,
  ictx: IommufdCtx,
  ioas: Ioas,
  uptr: bigint,
  length: bigint,
): bigint | Fail {
  const fn = 'iopt_alloc_iova';
  if (length === 0n || length >= ULONG_MAX / 2n)
    return fail('EOVERFLOW', fn, 'length == 0 || length >= ULONG_MAX / 2');
  const pageOffset = uptr % PAGE_SIZE;
  const pow = roundupPowOfTwo(length);
  let align = uptr === 0n ? pow : minBig(pow, uptr & -uptr);
  const clamp = k.profile.has('iommufd-alloc-iova-align-clamp');
  if (clamp && align >= HPAGE_SIZE) align = HPAGE_SIZE;
  if (align < iovaAlignment(ictx, ioas)) return fail('EINVAL', fn, 'iova_alignment < iopt->iova_alignment');
  // __alloc_iova_check_range (6.12) / the open-coded check of __alloc_iova_check_hole/_used (6.9)
  const check = (start: bigint, last: bigint): bigint | null => {
    if (clamp) {
      if (start + align - 1n > ULONG_MAX) return null;
      const s = ((start + align - 1n) & ~(align - 1n)) | pageOffset;
      return s >= last || last - s < length - 1n ? null : s;
    }
    if (last - start < length - 1n) return null;
    const s = alignUp(start, align) | pageOffset;
    return s > last || last - s < length - 1n ? null : s;
  };
  const lo = PAGE_SIZE;
  const hi = ULONG_MAX - PAGE_SIZE;
  const allowed = ioas.allowed.length ? usedSpans(ioas.allowed, lo, hi) : [[lo, hi] as [bigint, bigint]];
  const taken = [
    ...reservedRanges(ictx, ioas),
    ...ioas.areas.map((a): [bigint, bigint] => [a.iova, a.iova + a.length - 1n]),
  ];
  for (const [as, al] of allowed) {
    const first = check(as, al);
    if (first === null) continue;
    // interval_tree_for_each_double_span over the reserved and area trees: the holes, in order
    for (const [hs, he] of uncovered(first, al, usedSpans(taken, first, al))) {
      const iova = check(hs, he);
      if (iova !== null) return iova;
    }
  }
  return fail('ENOSPC', fn, 'no hole of the allowed ranges fits');
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
  // both halves keep the iopt_pages and its storage domain: the pinned pages do not change
  if (a.pinned) {
    a.pages.pinnedBy.delete(a);
    a.pages.pinnedBy.add(lhs).add(rhs);
  }
  return null;
}

/** The VT-d reserved region the emulated devices report: IOMMU_RESV_MSI, the gap of IOVA_RANGES. */
const MSI_WINDOW: readonly [bigint, bigint] = [IOVA_RANGES[0]![1] + 1n, IOVA_RANGES[1]![0] - 1n];
/** domain->geometry.aperture_end (aperture_start is 0) */
const APERTURE_END = IOVA_RANGES[IOVA_RANGES.length - 1]![1];

/** iopt_reserve_iova's refusal: an area or an allowed range (IOAS_ALLOW_IOVAS) in [s, e] */
const hits = (ioas: Ioas, s: bigint, e: bigint) =>
  ioas.areas.some((a) => overlaps(a, s, e)) || ioas.allowed.some(([as, al]) => as <= e && s <= al);

/**
 * iopt_table_enforce_dev_resv_regions of a device attach (iommufd_device_attach_reserved_iova):
 * the device's MSI window is reserved, iopt_reserve_iova EADDRINUSE over an area.
 */
export function enforceDevResv(ioas: Ioas): Fail | null {
  if (hits(ioas, MSI_WINDOW[0], MSI_WINDOW[1]))
    return fail(
      'EADDRINUSE',
      'iopt_reserve_iova',
      'iopt_area_iter_first(iopt, start, last): an area or an allowed range in the MSI window',
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
      if (offPageSize(a))
        return fail('EADDRINUSE', 'iopt_check_iova_alignment', 'area not aligned to the domain page size');
  if (hits(ioas, APERTURE_END + 1n, ULONG_MAX))
    return fail(
      'EADDRINUSE',
      'iopt_reserve_iova',
      'iopt_area_iter_first(iopt, start, last): an area past aperture_end',
    );
  // iopt_fill_domain walks the area tree in IOVA order
  return pinAll(
    k,
    [...ioas.areas].sort((x, y) => (x.iova < y.iova ? -1 : 1)),
  );
}

/** iopt_table_remove_domain of the last domain: the pages are unpinned. */
export function removeLastDomain(k: Kernel, ioas: Ioas): void {
  for (const a of ioas.areas) unpinArea(k, a);
}

/**
 * iopt_set_allow_iova: the new allowed tree replaces the old one unless one of its ranges meets a
 * reserved range (EADDRINUSE, the old tree kept). Areas outside it stay: only iopt_alloc_iova
 * keeps to the allowed ranges.
 */
export function setAllowIova(ictx: IommufdCtx, ioas: Ioas, ranges: [bigint, bigint][]): Fail | null {
  const res = reservedRanges(ictx, ioas);
  if (ranges.some(([s, e]) => res.some(([rs, re]) => rs <= e && s <= re)))
    return fail(
      'EADDRINUSE',
      'iopt_set_allow_iova',
      'iopt_reserved_iter_first(iopt, allowed->node.start, last)',
    );
  ioas.allowed = [...ranges].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return null;
}

/**
 * iopt_disable_large_pages: nothing to do when disabled already; a domain with areas mapped is
 * EINVAL; iopt_calculate_iova_alignment then raises the alignment to PAGE_SIZE, which every area
 * must meet (iopt_check_iova_alignment EADDRINUSE, the flag restored).
 */
export function disableLargePages(ictx: IommufdCtx, ioas: Ioas): Fail | null {
  const fn = 'iopt_disable_large_pages';
  if (ioas.disableLargePages) return null;
  if (ioasHasDomain(ictx, ioas) && ioas.areas.length)
    return fail('EINVAL', fn, '!xa_empty(&iopt->domains) && !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)');
  if (iovaAlignment(ictx, ioas) < PAGE_SIZE && ioas.areas.some(offPageSize))
    return fail('EADDRINUSE', 'iopt_check_iova_alignment', 'an area is not PAGE_SIZE aligned');
  ioas.disableLargePages = true;
  return null;
}

/** iopt_enable_large_pages: the alignment only drops (to the domains' page size, or 1). */
export function enableLargePages(ioas: Ioas): void {
  ioas.disableLargePages = false;
}
