// drivers/vhost/vdpa.c: the vhost-vdpa IOTLB message handler (vhost_vdpa_process_iotlb_msg, vhost.md §9.5),
// the per-ASID address spaces, PA (pinning) and VA (file reference) mapping, and the proposed
// VHOST_IOTLB_REMAP (§13, behind the vhost-iotlb-remap patch).
import type { CallCtx } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { type Mm, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../kernel/memory.js';
import { type Fail, fail } from '../../kernel/result.js';
import { physAddr } from '../vdpa/dma.js';
import { VHOST_BACKEND_F_IOTLB_REMAP, VIRTIO_CONFIG_S_DRIVER_OK } from '../vdpa/sim.js';
import {
  VHOST_ACCESS_WO,
  VHOST_IOTLB_BATCH_BEGIN,
  VHOST_IOTLB_BATCH_END,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_UPDATE,
} from './bits.js';
import { checkOwner } from './core.js';
import type { VhostDev } from './dev.js';
import type { IotlbMap, VhostIotlb } from './iotlb.js';
import type { IotlbMsg } from './iotlb-msg.js';
import {
  asAllocFails,
  mapFileFails,
  mmAllocFails,
  mmPinned,
  newAsIotlb,
  PAGE_SHIFT,
  U64_MAX,
  type VdpaMapCtx,
  type VhostVdpa,
} from './vdpa-dev.js';

/**
 * An entry's VdpaMapCtx (its vhost_iotlb_map opaque), made by a class rather than an object literal: V8
 * tracks literal sites and, once most objects from a site survive (every entry of a big table made while
 * populating it), allocates all later ones from that site in the old generation. The short-lived ones of an
 * UPDATE / INVALIDATE pair then die there and, until the next full GC, keep the young objects they point
 * at alive through every scavenge: with 10^5 entries that made a scavenge ~10x dearer and the heap grow.
 */
class MapCtx implements VdpaMapCtx {
  constructor(
    readonly obj: VdpaMapCtx['obj'],
    readonly offset: bigint,
    readonly pinned: boolean,
    public mm: VdpaMapCtx['mm'],
  ) {}
}

const minU64 = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** proposed, never merged (Sistare V2 5/7) */
export const VHOST_IOTLB_REMAP = 7;
/** PAGE_SIZE / sizeof(struct page *): pin_user_pages is called for at most this many pages at a time */
const PIN_CHUNK = 512n;
const VDPA_MAP_SITE = 'vhost_vdpa_map: vhost_iotlb_add_range_ctx kmalloc map';

/** struct vhost_vdpa_as's id, by its iotlb member (container_of): an address space keeps its id */
const AS_ID = new WeakMap<VhostIotlb, number>();

/** iotlb_to_asid */
const asidOf = (iotlb: VhostIotlb): number => AS_ID.get(iotlb) ?? 0;

/** vhost_vdpa_alloc_as / find_alloc_as: NULL (EINVAL for the caller) when asid >= nas */
export function findAllocAs(k: Kernel, v: VhostVdpa, asid: number): VhostIotlb | undefined {
  const have = v.as.get(asid);
  if (have) return have;
  if (asid >= v.sim.nas) return undefined;
  if (asAllocFails(k, v)) return undefined;
  const t = newAsIotlb(k);
  AS_ID.set(t, asid);
  v.as.set(asid, t);
  return t;
}

/** vhost_vdpa_general_unmap: dma_unmap, or iommu_unmap on the platform domain (set_map: nothing here) */
function generalUnmap(v: VhostVdpa, m: IotlbMap, asid: number): void {
  if (v.sim.ops.dmaMap) v.sim.dmaUnmap(asid, m.start, m.size);
  else if (!v.sim.ops.setMap) v.domain?.freeRange(m.start, m.last);
}

/** vhost_vdpa_pa_unmap / vhost_vdpa_va_unmap: every entry meeting [start, last] goes whole. */
export function iotlbUnmap(v: VhostVdpa, iotlb: VhostIotlb, start: bigint, last: bigint, asid: number): void {
  const owner = v.dev?.owner ?? null;
  for (let m = iotlb.itreeFirst(start, last); m; m = iotlb.itreeFirst(start, last)) {
    const c = m.opaque as VdpaMapCtx | undefined;
    if (c?.pinned) {
      const pages = Number(m.size >> PAGE_SHIFT);
      c.obj.pinned -= pages;
      if (owner) mmPinned(owner).pages -= pages;
      v.pinnedVm -= pages;
    }
    generalUnmap(v, m, asid);
    iotlb.mapFree(m);
  }
}

/** vhost_vdpa_unmap: then one set_map outside a batch (5.19–6.3: an emptied AS is freed) */
export function vdpaUnmap(k: Kernel, v: VhostVdpa, iotlb: VhostIotlb, iova: bigint, size: bigint): void {
  const asid = asidOf(iotlb);
  iotlbUnmap(v, iotlb, iova, BigInt.asUintN(64, iova + size - 1n), asid);
  if (v.sim.ops.setMap && !v.inBatch) v.sim.setMap(asid, iotlb, v.dev?.owner);
  // the profile's test last: it has no effect, and a table that is not empty (the usual case) skips it
  if (!v.inBatch && iotlb.nmaps === 0 && freesEmptyAs(k)) removeAs(v, asid);
}

const freesEmptyAs = (k: Kernel): boolean =>
  k.profile.has('vdpa-asid') && !k.profile.has('vdpa-keep-empty-as');

/** vhost_vdpa_remove_as: all entries unmapped, then the parent's reset_map (6.7+) */
export function removeAs(v: VhostVdpa, asid: number): void {
  const t = v.as.get(asid);
  if (!t) return;
  v.as.delete(asid);
  iotlbUnmap(v, t, 0n, U64_MAX, asid);
  if (v.sim.ops.resetMap) v.sim.resetMap(asid);
}

/** vhost_vdpa_map's kmalloc fault point per address space, made once per mm rather than once per UPDATE */
const MAP_FAILS = new WeakMap<Mm, () => boolean>();

function mapFailsOf(mm: Mm | null): (() => boolean) | undefined {
  if (!mm) return undefined; // mmAllocFails(null) is false: no fault point
  let fn = MAP_FAILS.get(mm);
  if (!fn) {
    fn = mapFaultPoint(mm);
    MAP_FAILS.set(mm, fn);
  }
  return fn;
}

/** the callback itself, made apart: a closure inside mapFailsOf would cost it a context on every call */
function mapFaultPoint(mm: Mm): () => boolean {
  return () => mmAllocFails(mm, VDPA_MAP_SITE);
}

/** vhost_vdpa_map: the vhost entry, then the parent (dma_map now, set_map unless batching, or iommu_map) */
function vdpaMap(
  v: VhostVdpa,
  iotlb: VhostIotlb,
  iova: bigint,
  size: bigint,
  addr: bigint,
  perm: number,
  ctx: VdpaMapCtx,
): Fail | null {
  const last = BigInt.asUintN(64, iova + size - 1n);
  const added = iotlb.addRange(iova, last, addr, perm, ctx, mapFailsOf(ctx.mm));
  if (added !== 'ok')
    return fail(added, 'vhost_vdpa_map', 'vhost_iotlb_add_range_ctx(iotlb, iova, iova + size - 1, ...)');
  const sim = v.sim;
  const asid = asidOf(iotlb);
  let r: Fail | null = null;
  if (sim.ops.dmaMap) r = sim.dmaMap(asid, iova, size, addr, perm, ctx.mm);
  else if (sim.ops.setMap) r = v.inBatch ? null : sim.setMap(asid, iotlb, ctx.mm);
  else v.domain?.addRange(iova, last, addr, perm);
  if (r) {
    iotlb.freeRange(iova, last);
    return r;
  }
  return null;
}

/** vhost_vdpa_va_map: shared file-backed VMAs become entries; the rest is skipped without an error. */
function vaMap(k: Kernel, v: VhostVdpa, iotlb: VhostIotlb, msg: IotlbMsg): Fail | null {
  const mm = v.dev!.owner!;
  let { size, uaddr } = msg;
  let mapIova = msg.iova;
  let err: Fail | null = null;
  while (size) {
    // find_vma: the first VMA ending above uaddr, which need not contain it
    const vma = mm.findVmaAbove(uaddr);
    if (!vma) {
      err = fail('EINVAL', 'vhost_vdpa_va_map', '!find_vma(dev->mm, uaddr)');
      break;
    }
    const mapSize = minU64(size, vma.end - uaddr);
    if (vma.shared && vma.obj.kind !== 'anon' && !vma.io) {
      const offset = BigInt.asUintN(64, vma.pgoff + uaddr - vma.start);
      const ctx = new MapCtx(vma.obj, offset, false, mm);
      err = mapFileFails(mm) ?? vdpaMap(v, iotlb, mapIova, mapSize, uaddr, msg.perm, ctx);
      if (err) break;
    }
    // the last piece (usually the only one): nothing reads the cursors after it, so skip their bigints
    if (mapSize === size) break;
    size -= mapSize;
    uaddr += mapSize;
    mapIova += mapSize;
  }
  if (err) vdpaUnmap(k, v, iotlb, msg.iova, mapIova - msg.iova);
  return err;
}

/**
 * vhost_vdpa_pa_map: pin the pages (FOLL_LONGTERM, FOLL_WRITE for WO), bound by RLIMIT_MEMLOCK with no
 * capability test, and one entry per physically contiguous run (one object's pages are contiguous here).
 */
function paMap(k: Kernel, v: VhostVdpa, iotlb: VhostIotlb, msg: IotlbMsg): Fail | null {
  const fn = 'vhost_vdpa_pa_map';
  const mm = v.dev!.owner!;
  const pageOffset = msg.iova & (PAGE_SIZE - 1n);
  if (msg.size > U64_MAX - pageOffset) return fail('EINVAL', fn, 'size > ULONG_MAX - page_offset');
  const npages = (msg.size + pageOffset + PAGE_SIZE - 1n) >> PAGE_SHIFT;
  if (!npages) return fail('EINVAL', fn, '!npages');
  const lockLimit = k.machine.limits.memlock >> PAGE_SHIFT;
  if (npages + BigInt(mmPinned(mm).pages) > lockLimit) {
    return fail('ENOMEM', fn, 'npages + atomic64_read(&dev->mm->pinned_vm) > lock_limit');
  }
  const write = (msg.perm & VHOST_ACCESS_WO) !== 0;
  const prot = PROT_READ | (write ? PROT_WRITE : 0);
  // pin_user_pages, a chunk at a time: a fault on a chunk's first page is its EFAULT, later ones ENOMEM
  const pages: { obj: VdpaMapCtx['obj']; off: bigint }[] = [];
  const base = msg.uaddr & ~(PAGE_SIZE - 1n);
  for (let i = 0n; i < npages; i++) {
    const addr = base + i * PAGE_SIZE;
    const vma = addr < 1n << 64n ? mm.findVma(addr) : undefined;
    if (!vma || vma.io || (vma.prot & prot) !== prot) {
      for (const p of pages) p.obj.pinned--;
      if (i % PIN_CHUNK === 0n) return fail('EFAULT', fn, 'pin_user_pages() < 0 (no VMA or no access)');
      return fail('ENOMEM', fn, 'pin_user_pages() pinned fewer pages than asked');
    }
    const off = vma.pgoff + (addr - vma.start);
    vma.obj.pinned++;
    pages.push({ obj: vma.obj, off });
  }
  // the runs: consecutive pages of one object at consecutive offsets
  let iova = msg.iova & ~(PAGE_SIZE - 1n);
  let i = 0;
  while (i < pages.length) {
    let j = i + 1;
    while (
      j < pages.length &&
      pages[j]!.obj === pages[i]!.obj &&
      pages[j]!.off === pages[j - 1]!.off + PAGE_SIZE
    )
      j++;
    const run = BigInt(j - i) * PAGE_SIZE;
    const first = pages[i]!;
    const ctx = new MapCtx(first.obj, first.off, true, mm);
    const e = vdpaMap(v, iotlb, iova, run, physAddr(k, first.obj, first.off), msg.perm, ctx);
    if (e) {
      for (const p of pages.slice(i)) p.obj.pinned--;
      vdpaUnmap(k, v, iotlb, msg.iova, msg.size);
      return e;
    }
    // mapped pages are accounted in vhost_vdpa_map
    mmPinned(mm).pages += j - i;
    v.pinnedVm += j - i;
    iova += run;
    i = j;
  }
  return null;
}

/** vhost_vdpa_process_iotlb_update */
function processUpdate(k: Kernel, v: VhostVdpa, iotlb: VhostIotlb, msg: IotlbMsg): Fail | null {
  const fn = 'vhost_vdpa_process_iotlb_update';
  const { iova, size } = msg;
  const last = iova + size - 1n; // exact: above U64_MAX is the kernel's overflow test
  if (iova < v.range.first || !size || last > U64_MAX || last > v.range.last) {
    return fail('EINVAL', fn, 'iova < range.first || !size || iova + size - 1 overflows or > range.last');
  }
  if (iotlb.itreeFirst(iova, last)) {
    return fail('EEXIST', fn, 'vhost_iotlb_itree_first(iotlb, iova, iova + size - 1)');
  }
  return v.sim.useVa ? vaMap(k, v, iotlb, msg) : paMap(k, v, iotlb, msg);
}

/** Sistare V2 5/7 vhost_vdpa_process_iotlb_remap: a new uaddr for an existing entry, permissions kept. */
function processRemap(ctx: CallCtx, v: VhostVdpa, iotlb: VhostIotlb, msg: IotlbMsg): Fail | null {
  const fn = 'vhost_vdpa_process_iotlb_remap';
  const sim = v.sim;
  if (msg.perm || !msg.size) return fail('EINVAL', fn, 'msg->perm || !msg->size');
  if (!((sim.parentBackendFeatures >> BigInt(VHOST_BACKEND_F_IOTLB_REMAP)) & 1n)) {
    return fail(
      'EOPNOTSUPP',
      fn,
      '!(vhost_vdpa_get_backend_features(v) & BIT_ULL(VHOST_BACKEND_F_IOTLB_REMAP))',
    );
  }
  const last = (msg.iova + msg.size - 1n) & U64_MAX;
  const m = iotlb.itreeFirst(msg.iova, last);
  if (!m) return fail('ENOENT', fn, '!vhost_iotlb_itree_first(iotlb, iova, iova + size - 1)');
  if (m.start !== msg.iova || m.last !== last) {
    return fail('EINVAL', fn, 'map->start != msg->iova || map->last != msg->iova + msg->size - 1');
  }
  if (!sim.ops.setMap && !sim.ops.dmaMap) return fail('EINVAL', fn, '!ops->set_map && !ops->dma_map');
  if (!sim.ops.setMap) return fail('EINVAL', fn, '!ops->set_map');
  const asid = asidOf(iotlb);
  // as written, before the address changes: the parent is sent the old address until the next set_map
  const e = v.inBatch ? null : sim.setMap(asid, iotlb, v.dev?.owner);
  if (e) return e;
  diagnoseRemap(ctx, v, m, msg.uaddr);
  (m as { addr: bigint }).addr = msg.uaddr;
  const c = m.opaque as VdpaMapCtx | undefined;
  if (c) c.mm = v.dev!.owner;
  return null;
}

/** What the kernel does not check on a REMAP: the same memory, and a device that is not running. */
function diagnoseRemap(ctx: CallCtx, v: VhostVdpa, m: IotlbMap, uaddr: bigint): void {
  const k = ctx.k;
  const c = m.opaque as VdpaMapCtx | undefined;
  const mm = v.dev!.owner!;
  const vma = mm.findVma(uaddr);
  const range = `[0x${m.start.toString(16)}, 0x${m.last.toString(16)}]`;
  if (c) {
    const off = vma ? vma.pgoff + (uaddr - vma.start) : 0n;
    if (!vma || vma.obj !== c.obj || off !== c.offset) {
      const now = vma ? `memory object ${vma.obj.id} at offset 0x${off.toString(16)}` : 'no mapping at all';
      k.diagnose(
        'vdpa-remap-different-memory',
        `VHOST_IOTLB_REMAP of iova ${range} to uaddr 0x${uaddr.toString(16)}: the entry mapped memory object ` +
          `${c.obj.id} at offset 0x${c.offset.toString(16)}, the new address maps ${now}. The kernel does not ` +
          'check this ("correctness is the user\'s responsibility"): the device now reads and writes other memory.',
      );
    }
  }
  diagnoseRunning(k, v, 'VHOST_IOTLB_REMAP');
}

/** A REMAP, or an UPDATE after NEW_OWNER, while the device runs (DRIVER_OK and not suspended). */
export function diagnoseRunning(k: Kernel, v: VhostVdpa, what: string): void {
  if (!(v.sim.status & VIRTIO_CONFIG_S_DRIVER_OK) || v.suspended) return;
  k.diagnose(
    'vdpa-remap-running',
    `${what} while the device is running (status has DRIVER_OK and it is not suspended): the device may DMA ` +
      'through a mapping that is being changed. The live-update flow suspends first (VHOST_VDPA_SUSPEND) and ' +
      'resumes only after every mapping was remapped; the kernel enforces neither.',
  );
}

/** vhost_vdpa_process_iotlb_msg (the dev->msg_handler); every error becomes EFAULT in write(). */
export function vdpaProcessIotlbMsg(
  ctx: CallCtx,
  v: VhostVdpa,
  dev: VhostDev,
  asid: number,
  msg: IotlbMsg,
): Fail | null {
  const fn = 'vhost_vdpa_process_iotlb_msg';
  const k = ctx.k;
  const e = checkOwner(ctx, dev);
  if (e) return e;
  // before the ASID series: one IOTLB (v->iotlb), made at open
  if (!k.profile.has('vdpa-asid')) asid = 0;
  let iotlb: VhostIotlb | undefined;
  if (msg.type === VHOST_IOTLB_UPDATE || msg.type === VHOST_IOTLB_BATCH_BEGIN) {
    iotlb = findAllocAs(k, v, asid);
    if (!iotlb)
      return fail('EINVAL', fn, `!vhost_vdpa_find_alloc_as(v, asid): can't find and alloc asid ${asid}`);
  } else {
    iotlb = v.as.get(asid);
  }
  if (v.inBatch && v.batchAsid !== asid) {
    return fail('EINVAL', fn, `v->in_batch && v->batch_asid != asid (batch id ${v.batchAsid} asid ${asid})`);
  }
  if (!iotlb) return fail('EINVAL', fn, `!iotlb (no iotlb for asid ${asid})`);
  switch (msg.type) {
    case VHOST_IOTLB_UPDATE:
      if (v.ownerChanged) diagnoseRunning(k, v, 'VHOST_IOTLB_UPDATE after VHOST_NEW_OWNER');
      return processUpdate(k, v, iotlb, msg);
    case VHOST_IOTLB_INVALIDATE:
      vdpaUnmap(k, v, iotlb, msg.iova, msg.size);
      return null;
    case VHOST_IOTLB_BATCH_BEGIN:
      v.batchAsid = asid;
      v.inBatch = true;
      return null;
    case VHOST_IOTLB_BATCH_END:
      // set_map's result is ignored here
      if (v.inBatch && v.sim.ops.setMap) v.sim.setMap(asid, iotlb, v.dev?.owner);
      v.inBatch = false;
      if (freesEmptyAs(k) && iotlb.nmaps === 0) removeAs(v, asid);
      return null;
    case VHOST_IOTLB_REMAP:
      if (k.profile.hasPatch('vhost-iotlb-remap')) return processRemap(ctx, v, iotlb, msg);
      return fail('EINVAL', fn, 'default: unknown msg->type');
    default:
      return fail('EINVAL', fn, 'default: unknown msg->type');
  }
}
