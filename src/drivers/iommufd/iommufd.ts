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
import {
  type AccountMode,
  addFirstDomain,
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
export interface Hwpt {
  readonly type: 'hwpt';
  readonly id: number;
  readonly ioas: Ioas;
  readonly devices: Set<IommufdDevice>;
}
export interface IommufdDevice {
  readonly type: 'device';
  readonly id: number;
  readonly pci: PciDev;
  hwpt: Hwpt | null;
}
export type IommufdObject = Ioas | Hwpt | IommufdDevice;

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
function allocId(ictx: IommufdCtx): number {
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
 * iommufd_device_bind: iommu_device_claim_dma_owner(dev, ictx) — a kernel DMA user in the group or
 * another owner is EPERM; then the device object and its id.
 */
export function bindDevice(k: Kernel, ictx: IommufdCtx, pci: PciDev, mm: Mm): IommufdDevice | Fail {
  const g = pci.group;
  const own = owners(k).get(g);
  const fn = 'iommu_device_claim_dma_owner';
  // iommufd_get_group: a group this ctx has no iommufd_group for yet gets one (kzalloc, -ENOMEM)
  if (own?.ictx !== ictx && k.fault.alloc(mm, 'iommufd_get_group: kzalloc igroup'))
    return fail('ENOMEM', 'iommufd_get_group', '!new_igroup (kzalloc)');
  if (own ? own.ictx !== ictx : g.ownerCnt > 0)
    return fail('EPERM', fn, 'group->owner_cnt && group->owner != owner');
  // iommufd_object_alloc of the idev: out_release_owner, the claim undone (so never made here)
  if (k.fault.alloc(mm, '_iommufd_object_alloc: kzalloc idev'))
    return fail('ENOMEM', '_iommufd_object_alloc', '!obj (kzalloc)');
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

/**
 * iommufd_device_attach / _replace (vfio_iommufd_physical_attach_ioas): an IOAS id gets the
 * auto-domain HWPT (an existing one of that IOAS, else a new one), whose id is returned; a HWPT id
 * attaches directly; any other object is EINVAL; a group already on another HWPT is EINVAL.
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
  let hwpt: Hwpt | undefined;
  if (o.type === 'hwpt') hwpt = o;
  else if (o.type === 'ioas') {
    hwpt = [...ictx.objects.values()].find((x): x is Hwpt => x.type === 'hwpt' && x.ioas === o);
  } else return fail('EINVAL', fn, 'pt_obj->type is neither IOMMUFD_OBJ_IOAS nor a HWPT');
  // every device of one iommu group must share the HWPT (igroup->hwpt)
  for (const x of ictx.objects.values()) {
    if (x.type !== 'device' || x === d || x.pci.group !== d.pci.group || !x.hwpt) continue;
    if (hwpt && x.hwpt !== hwpt) return fail('EINVAL', fn, 'igroup->hwpt && igroup->hwpt != hwpt');
    if (!hwpt) return fail('EINVAL', fn, 'igroup->hwpt is not the IOAS auto domain');
  }
  if (!hwpt) {
    const ioas = o as Ioas;
    // iommufd_hwpt_paging_alloc: the object, then the domain (intel's alloc_domain kzalloc), each
    // -ENOMEM before iopt_table_add_domain (out_abort: the object destroyed, its id freed)
    if (k.fault.alloc(mm, '_iommufd_object_alloc: kzalloc hwpt_paging'))
      return fail('ENOMEM', '_iommufd_object_alloc', '!obj (kzalloc)');
    if (k.fault.alloc(mm, 'iommufd_hwpt_paging_alloc: intel alloc_domain kzalloc'))
      return fail('ENOMEM', 'iommufd_hwpt_paging_alloc', 'IS_ERR(hwpt->domain)');
    // the IOAS's first domain reserves ranges and pins what is mapped (io-pagetable.ts)
    if (!ioasHasDomain(ictx, ioas)) {
      const e = addFirstDomain(k, ioas);
      if (e) return e;
    }
    hwpt = { type: 'hwpt', id: allocId(ictx), ioas, devices: new Set() };
    ictx.objects.set(hwpt.id, hwpt);
  }
  if (d.hwpt && d.hwpt !== hwpt) detachDevice(k, ictx, d);
  d.hwpt = hwpt;
  hwpt.devices.add(d);
  return hwpt.id;
}

/** iommufd_device_detach: an auto-created HWPT goes with its last device. */
export function detachDevice(k: Kernel, ictx: IommufdCtx, d: IommufdDevice): void {
  const h = d.hwpt;
  if (!h) return;
  h.devices.delete(d);
  d.hwpt = null;
  if (h.devices.size === 0) {
    ictx.objects.delete(h.id);
    if (!ioasHasDomain(ictx, h.ioas)) removeLastDomain(k, h.ioas);
  }
}

function ioasAlloc(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (c.flags) return fail('EOPNOTSUPP', 'iommufd_ioas_alloc_ioctl', 'cmd->flags');
  // iommufd_ioas_alloc → _iommufd_object_alloc: ERR_PTR(-ENOMEM), no id reserved
  if (ctx.k.allocFails(ctx.proc, '_iommufd_object_alloc: kzalloc ioas'))
    return fail('ENOMEM', '_iommufd_object_alloc', '!obj (kzalloc)');
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

function destroy(u: Ucmd): SysResult {
  const { ictx, cmd: c } = u;
  const id = Number(c.id);
  const o = ictx.objects.get(id);
  const fn = 'iommufd_object_remove';
  if (!o) return fail('ENOENT', fn, 'xa_load(&ictx->objects, id) == NULL');
  const busy =
    o.type === 'device' ||
    (o.type === 'hwpt' && o.devices.size > 0) ||
    (o.type === 'ioas' && [...ictx.objects.values()].some((x) => x.type === 'hwpt' && x.ioas === o));
  if (busy) return fail('EBUSY', fn, 'refcount_dec_if_one(&obj->users) failed: the object is in use');
  ictx.objects.delete(id);
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

/** Commands vioctl does not model yet: the table entry exists (so the size rules run), the op does not. */
function notModelled(name: string, def: StructDef, min: number, feature: ProfileFeature): IommufdOp {
  return {
    name,
    feature,
    min,
    def: () => def,
    execute: () => fail('ENOTTY', 'vioctl', `${name} is not modelled yet (the real kernel runs it)`),
  };
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
  notModelled('IOMMU_HWPT_ALLOC', iommu_ioas_alloc, 0, 'iommufd-hwpt-alloc'),
  notModelled('IOMMU_GET_HW_INFO', iommu_ioas_alloc, 0, 'iommufd-hwpt-alloc'),
  notModelled('IOMMU_HWPT_SET_DIRTY_TRACKING', iommu_ioas_alloc, 0, 'iommufd-dirty-tracking'),
  notModelled('IOMMU_HWPT_GET_DIRTY_BITMAP', iommu_ioas_alloc, 0, 'iommufd-dirty-tracking'),
  notModelled('IOMMU_HWPT_INVALIDATE', iommu_ioas_alloc, 0, 'iommufd-hwpt-invalidate'),
  notModelled('IOMMU_FAULT_QUEUE_ALLOC', iommu_ioas_alloc, 0, 'iommufd-fault-queue'),
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
