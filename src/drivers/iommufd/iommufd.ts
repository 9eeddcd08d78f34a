// /dev/iommu (drivers/iommu/iommufd/main.c, ioas.c, io_pagetable.c, device.c; vfio.md §3.3, §12):
// an iommufd context with its object table (IOAS, auto-created HWPTs, devices bound by the vfio
// cdev or a group's compat path), the dispatcher's size rules, IOAS_ALLOC, IOAS_MAP / UNMAP and
// DESTROY. VFIO container ioctls on any iommufd file go to vfio-compat.ts.
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Mm } from '../../kernel/memory.js';
import type { ProfileFeature } from '../../kernel/profile.js';
import type { DriverModule, Opened } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMUFD_CMD_BASE,
  IOMMUFD_MINSZ,
  iommu_destroy,
  iommu_ioas_alloc,
  iommu_ioas_allow_iovas,
  iommu_ioas_copy,
  iommu_ioas_iova_ranges,
  iommu_ioas_map,
  iommu_ioas_unmap,
  iommu_option,
  iommu_vfio_ioas,
  iommufdNr,
} from '../../uapi/iommufd.js';
import { readScalar, type StructDef } from '../../uapi/struct.js';
import type { IommuGroup, PciDev } from '../pci/topology.js';
import { HWPT_OPS } from './hwpt-ops.js';
import {
  type AccountMode,
  addDomain,
  enforceDevResv,
  ioasHasDomain,
  mapUserPages,
  removeLastDomain,
  ULONG_MAX,
  unmapAll,
  unmapIova,
  unpinArea,
} from './io-pagetable.js';
import { ioasAllowIovas, ioasCopy, ioasIovaRanges, option, vfioIoas } from './ioas-ops.js';
import { getIoas, respond, type Ucmd } from './ucmd.js';
import { iommufdVfioIoctl } from './vfio-compat.js';
import { allocPagingDomain, type DmarDomain, intelAttachChecks } from './vtd.js';

/** struct iopt_pages: the user range behind one IOAS_MAP, shared by the areas IOAS_COPY makes of it */
export interface IoptPages {
  /** pages->uptr: the user address aligned down to PAGE_SIZE */
  readonly uptr: bigint;
  readonly npages: bigint;
  /** pages->writable: pinned with FOLL_WRITE, and only such pages take a writable area */
  readonly writable: boolean;
  /** pages->source_mm */
  readonly mm: Mm;
  /** pages->account_mode: NONE when the mapping task had CAP_IPC_LOCK */
  readonly account: AccountMode | 'none';
  /** the areas over these pages that some domain maps: their pages are pinned and charged once */
  readonly pinnedBy: Set<Area>;
}
/** struct iopt_area: an IOVA range of one IOAS over a slice of an iopt_pages */
export interface Area {
  readonly iova: bigint;
  readonly length: bigint;
  /** the user address of the area's first byte (pages->uptr + iopt_area_start_byte) */
  readonly uptr: bigint;
  /** area->iommu_prot & IOMMU_WRITE */
  readonly writable: boolean;
  readonly pages: IoptPages;
  /** pinned (and charged) while some domain of the IOAS maps it */
  pinned: boolean;
}
export interface Ioas {
  readonly type: 'ioas';
  readonly id: number;
  readonly areas: Area[];
  /** iopt->allowed_itree, sorted by start: IOAS_ALLOW_IOVAS; empty allows everything */
  allowed: [bigint, bigint][];
  /** iopt->disable_large_pages: set by the compat SET_IOMMU(VFIO_TYPE1_IOMMU) or IOMMU_OPTION_HUGE_PAGES 0 */
  disableLargePages: boolean;
}
/** IOMMUFD_OBJ_HWPT_PAGING (6.6: IOMMUFD_OBJ_HW_PAGETABLE): a paging domain built on an IOAS */
export interface Hwpt {
  readonly type: 'hwpt';
  readonly id: number;
  readonly ioas: Ioas;
  readonly devices: Set<IommufdDevice>;
  /** hwpt_paging->auto_domain: made by an attach to an IOAS, and destroyed with its last device */
  readonly autoDomain: boolean;
  readonly domain: DmarDomain;
}
/** IOMMUFD_OBJ_HWPT_NESTED: a stage-1 domain over a NEST_PARENT paging HWPT (hwpt-ops.ts) */
export interface HwptNested {
  readonly type: 'hwpt-nested';
  readonly id: number;
  readonly parent: Hwpt;
  readonly devices: Set<IommufdDevice>;
  readonly domain: DmarDomain;
  /** hwpt->fault: the fault object IOMMU_HWPT_FAULT_ID_VALID named */
  readonly fault: FaultObject | null;
}
/** IOMMUFD_OBJ_FAULT (6.11): its fd holds a users reference while open */
export interface FaultObject {
  readonly type: 'fault';
  readonly id: number;
  fileOpen: boolean;
}
export interface IommufdDevice {
  readonly type: 'device';
  readonly id: number;
  readonly pci: PciDev;
  hwpt: Hwpt | HwptNested | null;
}
export type IommufdObject = Ioas | Hwpt | HwptNested | FaultObject | IommufdDevice;

export interface IommufdCtx {
  /** the file number of /dev/iommu (or of /dev/vfio/vfio it provides), for diagnostics */
  readonly file: number;
  readonly objects: Map<number, IommufdObject>;
  /** ictx->vfio_ioas: the IOAS the VFIO compat ioctls use, made by a group's SET_CONTAINER */
  vfioIoas: Ioas | null;
  /** ictx->account_mode: MM when opened as /dev/vfio/vfio (iommufd_fops_open), or IOMMU_OPTION_RLIMIT_MODE */
  accountMode: AccountMode;
}

/** iommufd_fops_open; `vfioMisc` is the open of /dev/vfio/vfio under CONFIG_IOMMUFD_VFIO_CONTAINER. */
export function newIommufdCtx(fileId: number, vfioMisc: boolean): IommufdCtx {
  return { file: fileId, objects: new Map(), vfioIoas: null, accountMode: vfioMisc ? 'mm' : 'user' };
}

export function newIoas(ictx: IommufdCtx): Ioas {
  const ioas: Ioas = { type: 'ioas', id: allocId(ictx), areas: [], allowed: [], disableLargePages: false };
  ictx.objects.set(ioas.id, ioas);
  return ioas;
}

/** xa_alloc(XA_FLAGS_ALLOC1, xa_limit_31b): the lowest free id from 1 (eda175dfe248). */
export function allocId(ictx: IommufdCtx): number {
  let n = 1;
  while (ictx.objects.has(n)) n++;
  return n;
}

export function iommufdOf(f: OpenFile | undefined): IommufdCtx | undefined {
  return f && f.ops === IOMMUFD_OPS ? (f.priv as IommufdCtx) : undefined;
}

/** iommufd_ctx_has_group: some device of the group is bound to this context. */
export function ctxHasGroup(ictx: IommufdCtx, g: IommuGroup): boolean {
  for (const o of ictx.objects.values()) if (o.type === 'device' && o.pci.group === g) return true;
  return false;
}

/** The groups claimed by an iommufd context (iommu_device_claim_dma_owner's owner cookie). */
function owners(k: Kernel): Map<IommuGroup, { ictx: IommufdCtx; n: number }> {
  let m = k.globals.get('iommufd-owners') as Map<IommuGroup, { ictx: IommufdCtx; n: number }> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('iommufd-owners', m);
  }
  return m;
}

/**
 * A store into an empty xarray (xa_alloc into ictx->objects, __xa_cmpxchg into ictx->groups) needs
 * its first xa_node: xas_alloc's GFP_NOWAIT kmem_cache_alloc, and when that fails __xas_nomem's
 * GFP_KERNEL one, whose failure is the store's -ENOMEM (index 0 of an empty array needs none: it is
 * xa_head itself). Every index the default machine reaches (an
 * object id, an iommu group id) is below XA_CHUNK_SIZE, so a non-empty xarray has its node; ids of
 * 64 and more (a taller tree, more nodes) are not modelled. fail_nth fails one point a run, so the
 * GFP_NOWAIT failure is always retried successfully: the -ENOMEM is written as the kernel has it,
 * but only a second injected failure would reach it.
 */
export function xaNodeFails(k: Kernel, task: object, empty: boolean, xa: string): boolean {
  if (!empty || !k.fault.alloc(task, `xas_alloc: ${xa} xa_node (GFP_NOWAIT)`)) return false;
  return k.fault.alloc(task, `__xas_nomem: ${xa} xa_node`);
}

/** _iommufd_object_alloc's xa_alloc of the id (after the object's kzalloc; out_free unwinds it). */
function objectIdFails(k: Kernel, task: object, ictx: IommufdCtx): Fail | null {
  return xaNodeFails(k, task, ictx.objects.size === 0, 'ictx->objects')
    ? fail('ENOMEM', '_iommufd_object_alloc', 'xa_alloc(&ictx->objects, &obj->id, ...) < 0')
    : null;
}

/**
 * _iommufd_object_alloc (iommufd_object_alloc / __iommufd_object_alloc of every object type): the
 * object's kzalloc (ERR_PTR(-ENOMEM), no id reserved), then the xa_alloc of its id.
 */
export function objectAlloc(k: Kernel, task: object, ictx: IommufdCtx, what: string): Fail | null {
  if (k.fault.alloc(task, `_iommufd_object_alloc: kzalloc ${what}`))
    return fail('ENOMEM', '_iommufd_object_alloc', '!obj (kzalloc)');
  return objectIdFails(k, task, ictx);
}

/**
 * iommufd_device_bind: iommufd_get_group (a new igroup's kzalloc, and its __xa_cmpxchg into
 * ictx->groups), iommu_device_claim_dma_owner(dev, ictx) — a kernel DMA user in the group or
 * another owner is EPERM; then the device object and its id.
 */
export function bindDevice(k: Kernel, ictx: IommufdCtx, pci: PciDev, mm: Mm): IommufdDevice | Fail {
  const g = pci.group;
  const own = owners(k).get(g);
  const fn = 'iommu_device_claim_dma_owner';
  // iommufd_get_group: a group this ctx has no iommufd_group for yet gets one (kzalloc, -ENOMEM)
  if (own?.ictx !== ictx) {
    if (k.fault.alloc(mm, 'iommufd_get_group: kzalloc igroup'))
      return fail('ENOMEM', 'iommufd_get_group', '!new_igroup (kzalloc)');
    // ictx->groups (indexed by group id) has an xa_node once it holds an index other than 0: an
    // entry at index 0 alone sits in xa_head (xas_expand of an empty array to index 0 needs no
    // node). Each igroup goes with its last idev, so the groups are those of the ctx's devices.
    const noNode = ![...ictx.objects.values()].some((o) => o.type === 'device' && o.pci.group.id !== 0);
    if (xaNodeFails(k, mm, noNode && g.id !== 0, 'ictx->groups'))
      return fail('ENOMEM', 'iommufd_get_group', 'xa_is_err(__xa_cmpxchg(&ictx->groups, id, ...))');
  }
  if (own ? own.ictx !== ictx : g.ownerCnt > 0)
    return fail('EPERM', fn, 'group->owner_cnt && group->owner != owner');
  // iommufd_object_alloc of the idev: out_release_owner, the claim undone (so never made here)
  const objFail = objectAlloc(k, mm, ictx, 'idev');
  if (objFail) return objFail;
  if (own) own.n++;
  else {
    owners(k).set(g, { ictx, n: 1 });
    g.ownerCnt++;
    g.owner = ictx;
  }
  const d: IommufdDevice = { type: 'device', id: allocId(ictx), pci, hwpt: null };
  ictx.objects.set(d.id, d);
  return d;
}

/** iommufd_device_unbind: detach, drop the object, release the DMA ownership claim. */
export function unbindDevice(k: Kernel, ictx: IommufdCtx, d: IommufdDevice): void {
  detachDevice(k, ictx, d);
  ictx.objects.delete(d.id);
  const g = d.pci.group;
  const own = owners(k).get(g);
  if (own && --own.n === 0) {
    owners(k).delete(g);
    g.ownerCnt--;
    g.owner = null;
  }
}

/** The paging HWPT a HWPT is built on (find_hwpt_paging): itself, or a nested one's parent. */
export function hwptPaging(h: Hwpt | HwptNested): Hwpt {
  return h.type === 'hwpt' ? h : h.parent;
}

/** igroup->hwpt: the HWPT the device's iommu group is attached to in this context */
function groupHwpt(ictx: IommufdCtx, d: IommufdDevice): Hwpt | HwptNested | null {
  for (const x of ictx.objects.values())
    if (x.type === 'device' && x !== d && x.pci.group === d.pci.group && x.hwpt) return x.hwpt;
  return null;
}

/**
 * iommufd_hw_pagetable_attach: the group on another HWPT EINVAL; the device's reserved regions on
 * the paging HWPT's IOAS (EADDRINUSE); for the group's first device iommufd_hwpt_attach_device:
 * the handle's kzalloc, a fault HWPT's iommufd_fault_iopf_enable (intel_iommu_enable_iopf: the
 * emulated devices have no ATS / PRI, -ENODEV), then the VT-d attach (vtd.ts).
 * With `old` (the device is attached: the vfio cdev's second ATTACH is iommufd_device_replace)
 * iommufd_device_do_replace instead: no group check (the whole group moves, attachDevice), the
 * reserved regions (the same MSI window for every device of the group) only
 * for another IOAS, then iommufd_hwpt_replace_device (handle, iopf when only the new HWPT has a
 * fault object, the VT-d attach).
 */
function hwptAttach(
  k: Kernel,
  ictx: IommufdCtx,
  d: IommufdDevice,
  hwpt: Hwpt | HwptNested,
  mm: Mm,
  old: Hwpt | HwptNested | null,
): Fail | null {
  const cur = old ?? groupHwpt(ictx, d);
  if (!old && cur && cur !== hwpt)
    return fail(
      'EINVAL',
      'iommufd_hw_pagetable_attach',
      'idev->igroup->hwpt != NULL && idev->igroup->hwpt != hwpt',
    );
  if (!old || hwptPaging(old).ioas !== hwptPaging(hwpt).ioas) {
    const e = enforceDevResv(hwptPaging(hwpt).ioas);
    if (e) return e;
  }
  if (!cur || old) {
    const fn = old ? 'iommufd_hwpt_replace_device' : 'iommufd_hwpt_attach_device';
    if (k.fault.alloc(mm, `${fn}: kzalloc handle`)) return fail('ENOMEM', fn, '!handle (kzalloc)');
    const fault = (h: Hwpt | HwptNested | null) => h?.type === 'hwpt-nested' && h.fault !== null;
    if (fault(hwpt) && !fault(old))
      return fail('ENODEV', 'intel_iommu_enable_iopf', '!info->ats_enabled || !info->pri_supported');
    const v = intelAttachChecks(k, hwpt.domain);
    if (v) return v;
  }
  return null;
}

/**
 * iommufd_device_attach / _replace (vfio_iommufd_physical_attach_ioas): an explicit HWPT (paging or
 * nested) attaches directly; an IOAS id gets an auto-domain HWPT of that IOAS (an existing one, an
 * EINVAL from it meaning "try the next"), else a new one (iommufd_hwpt_paging_alloc: object,
 * domain, then for an attach the immediate attach before iopt_table_add_domain, for a replace
 * iopt_table_add_domain before it), whose id is returned; any other object is EINVAL. Explicit
 * HWPTs are never picked for an IOAS id.
 */
export function attachDevice(
  k: Kernel,
  ictx: IommufdCtx,
  d: IommufdDevice,
  ptId: number,
  mm: Mm,
): number | Fail {
  const fn = 'iommufd_device_change_pt';
  const o = ictx.objects.get(ptId);
  if (!o) return fail('ENOENT', 'iommufd_get_object', 'xa_load(&ictx->objects, id) == NULL');
  if (o.type !== 'hwpt' && o.type !== 'hwpt-nested' && o.type !== 'ioas')
    return fail('EINVAL', fn, 'pt_obj->type is neither IOMMUFD_OBJ_IOAS nor a HWPT');
  // a replace onto the group's own HWPT is a no-op (hwpt == igroup->hwpt)
  const old = d.hwpt;
  if (old && (old === o || (o.type === 'ioas' && old.type === 'hwpt' && old.autoDomain && old.ioas === o)))
    return old.id;
  const r = attachNew(k, ictx, d, o, mm, old);
  if (typeof r === 'number' && old) {
    // iommufd_device_do_replace: igroup->hwpt = hwpt moves the whole iommu group, and the
    // device_list's references go with it (refcount_add(num_devices) on the new HWPT,
    // refcount_sub(num_devices - 1) on the old); then iommufd_hw_pagetable_put of the old HWPT:
    // an auto domain goes with its last user
    const hwpt = d.hwpt!;
    for (const x of [...old.devices]) {
      if (x.pci.group !== d.pci.group) continue;
      old.devices.delete(x);
      x.hwpt = hwpt;
      hwpt.devices.add(x);
    }
    if (old.type === 'hwpt' && old.autoDomain && old.devices.size === 0) destroyHwpt(k, ictx, old);
  }
  return r;
}

function attachNew(
  k: Kernel,
  ictx: IommufdCtx,
  d: IommufdDevice,
  o: Ioas | Hwpt | HwptNested,
  mm: Mm,
  old: Hwpt | HwptNested | null,
): number | Fail {
  let hwpt: Hwpt | HwptNested | undefined;
  if (o.type !== 'ioas') {
    const e = hwptAttach(k, ictx, d, o, mm, old);
    if (e) return e;
    hwpt = o;
  } else {
    for (const x of ictx.objects.values()) {
      if (x.type !== 'hwpt' || !x.autoDomain || x.ioas !== o) continue;
      const e = hwptAttach(k, ictx, d, x, mm, old);
      if (e?.errno === 'EINVAL') continue;
      if (e) return e;
      hwpt = x;
      break;
    }
    if (!hwpt) {
      // iommufd_hwpt_paging_alloc: the object, then the domain, each -ENOMEM (out_abort: the
      // object destroyed, its id freed, the domain out of the IOAS again)
      const objFail = objectAlloc(k, mm, ictx, 'hwpt_paging');
      if (objFail) return objFail;
      const domain = allocPagingDomain(k, mm);
      if ('ok' in domain) return domain;
      const first = !ioasHasDomain(ictx, o);
      const fresh: Hwpt = { type: 'hwpt', id: 0, ioas: o, devices: new Set(), autoDomain: true, domain };
      if (old) {
        const e = addDomain(k, first, o);
        if (e) return e;
        const a = hwptAttach(k, ictx, d, fresh, mm, old);
        if (a) {
          if (first) removeLastDomain(k, o);
          return a;
        }
      } else {
        const e = hwptAttach(k, ictx, d, fresh, mm, old) ?? addDomain(k, first, o);
        if (e) return e;
      }
      hwpt = { ...fresh, id: allocId(ictx) };
      ictx.objects.set(hwpt.id, hwpt);
    }
  }
  d.hwpt = hwpt;
  hwpt.devices.add(d);
  return hwpt.id;
}

/**
 * iommufd_device_detach: the device's reserved regions go; an auto-domain HWPT goes with its last
 * device (iommufd_hw_pagetable_put), an explicit one stays until IOMMU_DESTROY.
 */
export function detachDevice(k: Kernel, ictx: IommufdCtx, d: IommufdDevice): void {
  const h = d.hwpt;
  if (!h) return;
  h.devices.delete(d);
  d.hwpt = null;
  if (h.type === 'hwpt' && h.autoDomain && h.devices.size === 0) destroyHwpt(k, ictx, h);
}

/** iommufd_hwpt_paging_destroy: iopt_table_remove_domain; the last domain of the IOAS unpins. */
export function destroyHwpt(k: Kernel, ictx: IommufdCtx, h: Hwpt): void {
  ictx.objects.delete(h.id);
  if (!ioasHasDomain(ictx, h.ioas)) removeLastDomain(k, h.ioas);
}

function ioasAlloc(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (c.flags) return fail('EOPNOTSUPP', 'iommufd_ioas_alloc_ioctl', 'cmd->flags');
  // iommufd_ioas_alloc → _iommufd_object_alloc
  const objFail = objectAlloc(ctx.k, ctx.proc.mm, ictx, 'ioas');
  if (objFail) return objFail;
  const ioas = newIoas(ictx);
  const r = respond(u, { ...c, out_ioas_id: BigInt(ioas.id) });
  if (!r.ok) ictx.objects.delete(ioas.id);
  return r;
}

function ioasMap(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_ioas_map';
  const known = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
  if (c.flags! & ~known || c.__reserved) return fail('EOPNOTSUPP', fn, 'unknown flags || cmd->__reserved');
  if (c.iova! >= ULONG_MAX || c.length! >= ULONG_MAX)
    return fail('EOVERFLOW', fn, 'cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX');
  if (
    ctx.k.profile.has('iommufd-map-needs-prot') &&
    !(c.flags! & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))
  )
    return fail('EINVAL', fn, '!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))');
  const ioas = getIoas(ictx, c.ioas_id!);
  if ('ok' in ioas) return ioas;
  const req = {
    iova: c.iova!,
    uptr: c.user_va!,
    length: c.length!,
    writable: (c.flags! & IOMMU_IOAS_MAP_WRITEABLE) !== 0n,
    mm: ctx.proc.mm,
    lockCap: ctx.proc.capable('CAP_IPC_LOCK'),
  };
  const a = mapUserPages(ctx.k, ictx, ioas, req, (c.flags! & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0n);
  if ('ok' in a) return a;
  const iova = a.iova;
  return respond(u, { ...c, iova });
}

/** iommufd_ioas_unmap: unmap-all, or a range of which something must have been mapped (ENOENT). */
function ioasUnmap(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_ioas_unmap';
  const ioas = getIoas(ictx, c.ioas_id!);
  if ('ok' in ioas) return ioas;
  let r: ReturnType<typeof unmapAll>;
  if (c.iova === 0n && c.length === ULONG_MAX) r = unmapAll(ctx.k, ioas);
  else {
    if (c.iova! >= ULONG_MAX || c.length! >= ULONG_MAX)
      return fail('EOVERFLOW', fn, 'cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX');
    r = unmapIova(ctx.k, ioas, c.iova!, c.length!);
    if (!r.err && !r.unmapped) return fail('ENOENT', fn, '!unmapped');
  }
  if (r.err) return r.err;
  return respond(u, { ...c, length: r.unmapped });
}

/** The users a DESTROY finds besides the xarray's own: refcount_dec_if_one fails with any. */
function inUse(ictx: IommufdCtx, o: IommufdObject): boolean {
  const all = [...ictx.objects.values()];
  switch (o.type) {
    case 'device':
      return true; // the vfio driver holds it until iommufd_device_unbind
    case 'hwpt':
      return o.devices.size > 0 || all.some((x) => x.type === 'hwpt-nested' && x.parent === o);
    case 'hwpt-nested':
      return o.devices.size > 0;
    case 'ioas':
      return all.some((x) => x.type === 'hwpt' && x.ioas === o);
    case 'fault':
      return o.fileOpen || all.some((x) => x.type === 'hwpt-nested' && x.fault === o);
  }
}

function destroy(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const id = Number(c.id);
  const o = ictx.objects.get(id);
  const fn = 'iommufd_object_remove';
  if (!o) return fail('ENOENT', fn, 'xa_load(&ictx->objects, id) == NULL');
  if (inUse(ictx, o))
    return fail('EBUSY', fn, 'refcount_dec_if_one(&obj->users) failed: the object is in use');
  if (o.type === 'hwpt') destroyHwpt(ctx.k, ictx, o);
  else ictx.objects.delete(id);
  if (ictx.vfioIoas === o) ictx.vfioIoas = null;
  return ok(0);
}

/** One entry of iommufd_ioctl_ops[]: the IOCTL_OP() of main.c. */
export interface IommufdOp {
  /** the ioctl's name in src/uapi/iommufd.ts (op->ioctl_num is its number) */
  readonly name: string;
  /** the profile feature whose change added the command to the table */
  readonly feature: ProfileFeature;
  /** op->min_size: offsetofend of the last mandatory field */
  readonly min: number;
  /** the struct at this profile: op->size is its size (some grew across releases) */
  def(k: Kernel): StructDef;
  execute(u: Ucmd): SysResult;
}

/** iommufd_ioctl_ops[], indexed by _IOC_NR - IOMMUFD_CMD_BASE (CONFIG_IOMMUFD_TEST off: no TEST_CMD) */
const OPS: readonly IommufdOp[] = [
  {
    name: 'IOMMU_DESTROY',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.destroy,
    def: () => iommu_destroy,
    execute: destroy,
  },
  {
    name: 'IOMMU_IOAS_ALLOC',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_alloc,
    def: () => iommu_ioas_alloc,
    execute: ioasAlloc,
  },
  {
    name: 'IOMMU_IOAS_ALLOW_IOVAS',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_allow_iovas,
    def: () => iommu_ioas_allow_iovas,
    execute: ioasAllowIovas,
  },
  {
    name: 'IOMMU_IOAS_COPY',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_copy,
    def: () => iommu_ioas_copy,
    execute: ioasCopy,
  },
  {
    name: 'IOMMU_IOAS_IOVA_RANGES',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_iova_ranges,
    def: () => iommu_ioas_iova_ranges,
    execute: ioasIovaRanges,
  },
  {
    name: 'IOMMU_IOAS_MAP',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_map,
    def: () => iommu_ioas_map,
    execute: ioasMap,
  },
  {
    name: 'IOMMU_IOAS_UNMAP',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.ioas_unmap,
    def: () => iommu_ioas_unmap,
    execute: ioasUnmap,
  },
  {
    name: 'IOMMU_OPTION',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.option,
    def: () => iommu_option,
    execute: option,
  },
  {
    name: 'IOMMU_VFIO_IOAS',
    feature: 'iommufd',
    min: IOMMUFD_MINSZ.vfio_ioas,
    def: () => iommu_vfio_ioas,
    execute: vfioIoas,
  },
  ...HWPT_OPS,
];

/** ARRAY_SIZE(iommufd_ioctl_ops) at this profile: the release's commands, which have no holes. */
function tableSize(k: Kernel): number {
  let n = 0;
  while (n < OPS.length && k.profile.has(OPS[n]!.feature)) n++;
  return n;
}

/**
 * iommufd_fops_ioctl: nr outside the table goes to iommufd_vfio_ioctl; inside, get_user of the size
 * (EFAULT), then op->ioctl_num != cmd (ENOIOCTLCMD, ENOTTY to the user), then size < min_size
 * (EINVAL), then copy_struct_from_user (E2BIG for a non-zero tail past op->size, EFAULT).
 */
function iommufdIoctl(ctx: CallCtx, f: OpenFile<IommufdCtx>, cmd: number, arg: bigint): SysOutcome {
  const ictx = f.priv;
  const fn = 'iommufd_fops_ioctl';
  const nr = (cmd & 0xff) - IOMMUFD_CMD_BASE;
  // nr below the iommufd range or past the release's table: the VFIO container ioctls (vfio.md §12.6)
  if (nr < 0 || nr >= tableSize(ctx.k)) return iommufdVfioIoctl(ctx, ictx, cmd, arg);
  // get_user and check_zeroed_user's unsafe_get_user are no fault points; copy_from_user is
  const h = ctx.proc.mm.readUser(arg, 4);
  if (!h) return fail('EFAULT', fn, 'get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer)');
  const userSize = new DataView(h.buffer, h.byteOffset, 4).getUint32(0, true);
  const op = OPS[nr]!;
  if (iommufdNr(op.name) !== cmd) return fail('ENOTTY', fn, 'op->ioctl_num != cmd (-ENOIOCTLCMD)');
  if (userSize < op.min) return fail('EINVAL', fn, 'ucmd.user_size < op->min_size');
  const def = op.def(ctx.k);
  if (userSize > def.size) {
    // copy_struct_from_user: a larger struct must have a zero tail (checked up to 4 KiB here),
    // checked before the copy
    const tail = ctx.proc.mm.readUser(arg + BigInt(def.size), Math.min(userSize - def.size, 4096));
    if (!tail) return fail('EFAULT', 'copy_struct_from_user', 'check_zeroed_user');
    if (tail.some((x) => x !== 0)) return fail('E2BIG', 'copy_struct_from_user', 'check_zeroed_user() == 0');
  }
  const b = ctx.proc.mm.copyFromUser(arg, Math.min(userSize, def.size));
  if (!b) return fail('EFAULT', 'copy_struct_from_user', 'copy_from_user');
  const full = new Uint8Array(def.size);
  full.set(b);
  const c: Record<string, bigint> = {};
  for (const x of def.fields) c[x.name] = readScalar(full, x.offset, x.type);
  return op.execute({ ctx, ictx, arg, userSize, def, cmd: c });
}

export const IOMMUFD_OPS: FileOps<IommufdCtx> = {
  kind: 'iommufd',
  ioctl: iommufdIoctl,
  release(k: Kernel, f: OpenFile<IommufdCtx>) {
    // device objects are VFIO's: their cdev files hold the context (iommufd_ctx_get)
    for (const [id, o] of f.priv.objects) {
      if (o.type === 'device') continue;
      if (o.type === 'ioas') for (const a of o.areas) unpinArea(k, a);
      f.priv.objects.delete(id);
    }
    f.priv.vfioIoas = null;
  },
};

/** iommufd's misc devices: /dev/iommu, and /dev/vfio/vfio under CONFIG_IOMMUFD_VFIO_CONTAINER. */
export function openIommufd(ctx: CallCtx, fileId: number, vfioMisc: boolean): Opened | Fail {
  // iommufd_fops_open: kzalloc of the ictx, -ENOMEM
  if (ctx.k.allocFails(ctx.proc, 'iommufd_fops_open: kzalloc ictx'))
    return fail('ENOMEM', 'iommufd_fops_open', '!ictx (kzalloc)');
  return { ops: IOMMUFD_OPS, priv: newIommufdCtx(fileId, vfioMisc) } as Opened;
}

export const iommufdDriver: DriverModule = {
  name: 'iommufd',
  family: 'iommufd',
  claims: (path) => path === '/dev/iommu',
  exists: (k) => k.profile.has('iommufd'),
  open(ctx: CallCtx, _path: string, _flags: number, fileId: number): Opened | Fail {
    return openIommufd(ctx, fileId, false);
  },
  leaks: (k: Kernel): string[] =>
    [...owners(k).entries()].map(([g, o]) => `iommu group ${g.id} still claimed (${o.n} device(s))`),
};
