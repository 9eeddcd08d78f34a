// The HWPT-family iommufd commands (drivers/iommu/iommufd/hw_pagetable.c, device.c
// iommufd_get_hw_info, fault.c iommufd_fault_alloc, io_pagetable.c's dirty helpers @ 6.12; the 6.6
// and 6.9 trees where a profile feature says they differ), with the VT-d driver's answers from
// vtd.ts. Each op gets the ucmd read at the release's struct size (iommufd.ts).

import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { O_RDWR } from '../../kernel/kernel.js';
import { PAGE_SIZE } from '../../kernel/memory.js';
import { fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import {
  HWPT_MINSZ,
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_INFO_TYPE_INTEL_VTD,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_HWPT_PAGE_RESPONSE_SIZE,
  IOMMU_HWPT_PGFAULT_SIZE,
  iommu_fault_alloc,
  iommu_hw_info,
  iommu_hw_info_v66,
  iommu_hw_info_v67,
  iommu_hwpt_alloc,
  iommu_hwpt_alloc_v66,
  iommu_hwpt_alloc_v67,
  iommu_hwpt_get_dirty_bitmap,
  iommu_hwpt_invalidate,
  iommu_hwpt_set_dirty_tracking,
} from '../../uapi/iommufd-hwpt.js';
import { addDomain, ioasHasDomain, iovaAlignment, ULONG_MAX } from './io-pagetable.js';
import {
  allocId,
  destroyHwpt,
  type FaultObject,
  type Hwpt,
  type HwptNested,
  type Ioas,
  type IommufdCtx,
  type IommufdOp,
  objectAlloc,
} from './iommufd.js';
import { getIoas, getObject, respond, type Ucmd } from './ucmd.js';
import {
  allocPagingDomain,
  type DmarDomain,
  intelCacheInvalidateUser,
  intelCapable,
  intelDomainAllocUser,
  intelHwInfo,
  intelNestedAlloc,
} from './vtd.js';

/** iommufd_get_device */
const getDevice = (ictx: IommufdCtx, id: bigint) =>
  getObject(ictx, id, 'device', 'iommufd_get_device', 'iommufd_get_object(ictx, id, IOMMUFD_OBJ_DEVICE)');

/** iommufd_get_hwpt_paging */
const getPaging = (ictx: IommufdCtx, id: bigint) =>
  getObject(
    ictx,
    id,
    'hwpt',
    'iommufd_get_hwpt_paging',
    'iommufd_get_object(ictx, id, IOMMUFD_OBJ_HWPT_PAGING)',
  );

/** A paging HWPT's domain is in the IOAS now: insert the object, respond, abort on a failed copy. */
function finishPaging(u: Ucmd, ioas: Ioas, domain: DmarDomain): SysResult {
  const { ctx, ictx } = u;
  const first = !ioasHasDomain(ictx, ioas);
  // iopt_table_add_domain (rc: out_abort, the domain freed)
  const e = addDomain(ctx.k, first, ioas);
  if (e) return e;
  const h: Hwpt = { type: 'hwpt', id: allocId(ictx), ioas, devices: new Set(), autoDomain: false, domain };
  ictx.objects.set(h.id, h);
  const r = respond(u, { ...u.cmd, out_hwpt_id: BigInt(h.id) });
  // out_hwpt: iommufd_object_abort_and_destroy → iommufd_hwpt_paging_abort (the domain leaves the IOAS)
  if (!r.ok) destroyHwpt(ctx.k, ictx, h);
  return r;
}

/** IOMMU_HWPT_ALLOC at 6.6: flags must be 0, pt_id an IOAS; iommufd_hw_pagetable_alloc(immediate_attach false) */
function hwptAlloc66(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (c.flags || c.__reserved)
    return fail('EOPNOTSUPP', 'iommufd_hwpt_alloc', 'cmd->flags || cmd->__reserved');
  const idev = getDevice(ictx, c.dev_id!);
  if ('ok' in idev) return idev;
  const ioas = getIoas(ictx, c.pt_id!);
  if ('ok' in ioas) return ioas;
  const bad = objectAlloc(ctx.k, ctx.proc.mm, ictx, 'hwpt');
  if (bad) return bad;
  // iommu_domain_alloc(bus) → intel_iommu_domain_alloc(IOMMU_DOMAIN_UNMANAGED): NULL is -ENOMEM
  const domain = allocPagingDomain(ctx.k, ctx.proc.mm, false, false, {
    fn: 'iommufd_hw_pagetable_alloc',
    cond: '!hwpt->domain',
  });
  if ('ok' in domain) return domain;
  return finishPaging(u, ioas, domain);
}

/**
 * iommufd_hwpt_paging_alloc(immediate_attach false) for IOMMU_HWPT_ALLOC: the flags
 * (EOPNOTSUPP), the object, ops->domain_alloc_user (intel: vtd.ts), then iopt_table_add_domain.
 * idev->enforce_cache_coherency (ecap SC) would set the domain's snooping: the fresh domain has no
 * mappings, so intel_iommu_enforce_cache_coherency succeeds and nothing is observable.
 */
function hwptPagingAlloc(u: Ucmd, ioas: Ioas, flags: bigint, hasUserData: boolean): SysResult {
  const { ctx } = u;
  const fn = 'iommufd_hwpt_paging_alloc';
  const k = ctx.k;
  if (flags & ~(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING))
    return fail('EOPNOTSUPP', fn, 'flags & ~valid_flags');
  if (k.profile.has('iommufd-hwpt-alloc-flag-checks')) {
    if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING && !intelCapable(k, 'DIRTY_TRACKING'))
      return fail(
        'EOPNOTSUPP',
        fn,
        '(flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !device_iommu_capable(IOMMU_CAP_DIRTY_TRACKING)',
      );
    // FAULT_ID_VALID with NEST_PARENT: already outside valid_flags above
  }
  const bad = objectAlloc(k, ctx.proc.mm, u.ictx, 'hwpt_paging');
  if (bad) return bad;
  const domain = intelDomainAllocUser(k, ctx.proc.mm, flags, hasUserData);
  if ('ok' in domain) return domain;
  return finishPaging(u, ioas, domain);
}

/**
 * iommufd_hwpt_nested_alloc: flags other than FAULT_ID_VALID (6.11+; before, any flag) or no user
 * data EOPNOTSUPP; an auto-domain or non-NEST_PARENT parent EINVAL; the object; the driver's
 * nested domain (vtd.ts); then the fault object IOMMU_HWPT_FAULT_ID_VALID names (ENOENT).
 */
function hwptNestedAlloc(u: Ucmd, parent: Hwpt, flags: bigint): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const k = ctx.k;
  const fn = 'iommufd_hwpt_nested_alloc';
  const faults = k.profile.has('iommufd-fault-queue');
  const driverFlags = faults ? flags & ~IOMMU_HWPT_FAULT_ID_VALID : flags;
  if (driverFlags || !c.data_len)
    return fail('EOPNOTSUPP', fn, '(flags & ~IOMMU_HWPT_FAULT_ID_VALID) || !user_data->len');
  if (parent.autoDomain || !parent.domain.nestedParent)
    return fail('EINVAL', fn, 'parent->auto_domain || !parent->nest_parent');
  const bad = objectAlloc(k, ctx.proc.mm, ictx, 'hwpt_nested');
  if (bad) return bad;
  const domain = intelNestedAlloc(k, ctx.proc.mm, ctx.proc.mm, driverFlags, parent.domain, {
    type: c.data_type!,
    uptr: c.data_uptr!,
    len: Number(c.data_len),
  });
  if ('ok' in domain) return domain;
  let fault: FaultObject | null = null;
  if (faults && flags & IOMMU_HWPT_FAULT_ID_VALID) {
    const o = getObject(
      ictx,
      c.fault_id!,
      'fault',
      'iommufd_get_fault',
      'iommufd_get_object(ictx, id, IOMMUFD_OBJ_FAULT)',
    );
    if ('ok' in o) return o;
    fault = o;
  }
  const h: HwptNested = { type: 'hwpt-nested', id: allocId(ictx), parent, devices: new Set(), domain, fault };
  ictx.objects.set(h.id, h);
  const r = respond(u, { ...c, out_hwpt_id: BigInt(h.id) });
  if (!r.ok) ictx.objects.delete(h.id);
  return r;
}

/** iommufd_hwpt_alloc (6.7+) */
function hwptAlloc(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (!ctx.k.profile.has('iommufd-hwpt-alloc-user-data')) return hwptAlloc66(u);
  const fn = 'iommufd_hwpt_alloc';
  if (c.__reserved) return fail('EOPNOTSUPP', fn, 'cmd->__reserved');
  if (
    (c.data_type === IOMMU_HWPT_DATA_NONE && c.data_len) ||
    (c.data_type !== IOMMU_HWPT_DATA_NONE && !c.data_len)
  )
    return fail('EINVAL', fn, '(data_type == IOMMU_HWPT_DATA_NONE) != (data_len == 0)');
  const idev = getDevice(ictx, c.dev_id!);
  if ('ok' in idev) return idev;
  const pt = ictx.objects.get(Number(c.pt_id));
  if (!pt) return fail('EINVAL', fn, 'IS_ERR(iommufd_get_object(ictx, cmd->pt_id, IOMMUFD_OBJ_ANY))');
  if (pt.type === 'ioas') return hwptPagingAlloc(u, pt, c.flags!, c.data_len !== 0n);
  if (pt.type === 'hwpt') return hwptNestedAlloc(u, pt, c.flags!);
  return fail('EINVAL', fn, 'pt_obj->type is neither IOMMUFD_OBJ_IOAS nor IOMMUFD_OBJ_HWPT_PAGING');
}

/**
 * iommufd_get_hw_info: flags and the reserved bytes (EOPNOTSUPP), the device (ENOENT), the driver's
 * data (intel_iommu_hw_info, -ENOMEM), copied to data_uptr up to data_len and the rest of the user
 * buffer cleared (EFAULT), then data_len = the kernel's size, out_capabilities (6.7+) and
 * out_max_pasid_log2 (Debian 6.12: 0, the emulated devices have no PASID capability) copied back.
 */
function getHwInfo(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const k = ctx.k;
  const fn = 'iommufd_get_hw_info';
  const reserved = k.profile.has('iommufd-hw-info-pasid')
    ? c.__reserved0 || c.__reserved1 || c.__reserved2
    : c.__reserved;
  if (c.flags || reserved) return fail('EOPNOTSUPP', fn, 'cmd->flags || cmd->__reserved');
  const idev = getDevice(ictx, c.dev_id!);
  if ('ok' in idev) return idev;
  const data = intelHwInfo(k, ctx.proc.mm);
  if ('ok' in data) return data;
  const mm = ctx.proc.mm;
  const want = Number(c.data_len);
  const copyLen = Math.min(want, data.length);
  if (copyLen === 0)
    k.fault.copy(mm, 'copy_to_user'); // a fault point, but n = 0 cannot fail
  else if (!mm.copyToUser(c.data_uptr!, data.subarray(0, copyLen)))
    return fail('EFAULT', fn, 'copy_to_user(user_ptr, data, copy_len)');
  // clear_user of the tail: no fault point
  if (copyLen < want && !mm.writeUser(c.data_uptr! + BigInt(copyLen), new Uint8Array(want - copyLen)))
    return fail('EFAULT', fn, 'clear_user(user_ptr + copy_len, cmd->data_len - copy_len)');
  const out: Record<string, bigint> = {
    ...c,
    out_data_type: IOMMU_HW_INFO_TYPE_INTEL_VTD,
    data_len: BigInt(data.length),
  };
  if (k.profile.has('iommufd-hw-info-capabilities'))
    out.out_capabilities = intelCapable(k, 'DIRTY_TRACKING') ? IOMMU_HW_CAP_DIRTY_TRACKING : 0n;
  if (k.profile.has('iommufd-hw-info-pasid')) out.out_max_pasid_log2 = 0n;
  return respond(u, out);
}

/** iommufd_hwpt_set_dirty_tracking → iopt_set_dirty_tracking → intel_iommu_set_dirty_tracking */
function setDirtyTracking(u: Ucmd): SysResult {
  const { ictx, cmd: c } = u;
  if (c.flags! & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
    return fail(
      'EOPNOTSUPP',
      'iommufd_hwpt_set_dirty_tracking',
      'cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE',
    );
  const h = getPaging(ictx, c.hwpt_id!);
  if ('ok' in h) return h;
  if (!h.domain.dirtyOps) return fail('EOPNOTSUPP', 'iopt_set_dirty_tracking', '!domain->dirty_ops');
  // enabling first clears the dirty bits (no DMA ran: none set), then the PASID entries' SSADE
  h.domain.dirtyTracking = (c.flags! & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) !== 0n;
  return ok(0);
}

/**
 * iommufd_hwpt_get_dirty_bitmap: flags / __reserved (EOPNOTSUPP), the HWPT (ENOENT),
 * iommufd_check_iova_range (EINVAL, EOVERFLOW), then iommu_read_and_clear_dirty: no dirty_ops
 * EOPNOTSUPP, iova_bitmap_alloc's kzalloc ENOMEM. The walk's own result is dropped (ret stays 0),
 * and with no device DMA nothing is dirty: the bitmap is not written and nothing is copied back.
 */
function getDirtyBitmap(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (c.flags! & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR || c.__reserved)
    return fail('EOPNOTSUPP', 'iommufd_hwpt_get_dirty_bitmap', 'unknown flags || cmd->__reserved');
  const h = getPaging(ictx, c.hwpt_id!);
  if ('ok' in h) return h;
  const fn = 'iommufd_check_iova_range';
  const { iova, length, page_size: ps } = c as Record<'iova' | 'length' | 'page_size', bigint>;
  if (!length && ctx.k.profile.has('iommufd-dirty-bitmap-length-check'))
    return fail('EINVAL', fn, '!bitmap->length');
  // u64 arithmetic: length 0 (6.9) makes length - 1 U64_MAX
  const last = iova + ((length - 1n) & ULONG_MAX);
  if (last > ULONG_MAX) return fail('EOVERFLOW', fn, 'check_add_overflow(bitmap->iova, bitmap->length - 1)');
  const pg = iovaAlignment(ictx, h.ioas);
  const end = (last + 1n) & ULONG_MAX;
  if (iova & (pg - 1n) || end & (pg - 1n))
    return fail('EINVAL', fn, 'iova or last + 1 off iopt->iova_alignment');
  if (!ps) return fail('EINVAL', fn, '!bitmap->page_size');
  if (iova & (ps - 1n) || end & (ps - 1n))
    return fail('EINVAL', fn, 'iova or last + 1 off bitmap->page_size');
  if (!h.domain.dirtyOps)
    return fail('EOPNOTSUPP', 'iommu_read_and_clear_dirty', '!ops || !ops->read_and_clear_dirty');
  if (ctx.k.allocFails(ctx.proc, 'iova_bitmap_alloc: kzalloc bitmap'))
    return fail('ENOMEM', 'iommu_read_and_clear_dirty', 'IS_ERR(iova_bitmap_alloc())');
  return ok(0);
}

/** IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX (Debian 6.12.117) */
const ENTRY_NUM_MAX = 1n << 19n;

/**
 * iommufd_hwpt_invalidate: __reserved EOPNOTSUPP, entry bounds EINVAL, the nested HWPT ENOENT,
 * then the driver's cache_invalidate_user; entry_num is always copied back as the number of
 * entries handled, and a failed copy back is EFAULT whatever rc was.
 */
function hwptInvalidate(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_hwpt_invalidate';
  let rc: SysResult = ok(0);
  let done = 0;
  const num = c.entry_num!;
  const len = c.entry_len!;
  const bounds = ctx.k.profile.has('iommufd-invalidate-bounds');
  if (c.__reserved) rc = fail('EOPNOTSUPP', fn, 'cmd->__reserved');
  else if (num && (!c.data_uptr || !len || (bounds && (len > PAGE_SIZE || num > ENTRY_NUM_MAX))))
    rc = fail('EINVAL', fn, 'cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len || out of bounds)');
  else {
    const o = getObject(
      ictx,
      c.hwpt_id!,
      'hwpt-nested',
      'iommufd_get_hwpt_nested',
      'iommufd_get_object(ictx, id, IOMMUFD_OBJ_HWPT_NESTED)',
    );
    if ('ok' in o) rc = o;
    else {
      const r = intelCacheInvalidateUser(ctx.proc.mm, {
        type: c.data_type!,
        uptr: c.data_uptr!,
        entryLen: Number(len),
        entryNum: Number(num),
      });
      done = r.done;
      if (r.err) rc = r.err;
    }
  }
  const back = respond(u, { ...c, entry_num: BigInt(done) });
  return back.ok ? rc : back;
}

/** struct iommufd_fault as its fd sees it */
interface FaultFile {
  readonly fault: FaultObject;
  /** the iommufd file iommufd_ctx_get pinned */
  readonly ictxFile: OpenFile;
}

/** iommufd_fault_fops: nothing ever faults (no device has PRI), so reads find no group */
export const FAULT_FOPS: FileOps<FaultFile> = {
  kind: 'iommufd-fault',
  read(_ctx: CallCtx, _f: OpenFile<FaultFile>, _buf: bigint, len: number): SysOutcome {
    // *ppos stays 0: the fops never advance it
    if (len % IOMMU_HWPT_PGFAULT_SIZE) return fail('ESPIPE', 'iommufd_fault_fops_read', 'count % fault_size');
    return ok(0);
  },
  write(ctx: CallCtx, _f: OpenFile<FaultFile>, buf: bigint, len: number): SysResult {
    const fn = 'iommufd_fault_fops_write';
    if (len % IOMMU_HWPT_PAGE_RESPONSE_SIZE) return fail('ESPIPE', fn, 'count % response_size');
    if (!len) return ok(0);
    const b = ctx.proc.mm.copyFromUser(buf, IOMMU_HWPT_PAGE_RESPONSE_SIZE);
    if (!b) return fail('EFAULT', fn, 'copy_from_user(&response, buf + done, response_size)');
    const code = new DataView(b.buffer, b.byteOffset, 8).getUint32(4, true);
    if (code !== 0 && code !== 1) return fail('EINVAL', fn, 'response.code is neither SUCCESS nor INVALID');
    return fail('EINVAL', fn, '!xa_erase(&fault->response, response.cookie): no fault was read');
  },
  poll: () => 0x4, // EPOLLOUT; EPOLLIN only with a fault to deliver
  release(k: Kernel, f: OpenFile<FaultFile>) {
    // iommufd_fault_fops_release: the users reference, then iommufd_ctx_put
    f.priv.fault.fileOpen = false;
    k.fput(f.priv.ictxFile);
  },
};

/**
 * iommufd_fault_alloc: flags EOPNOTSUPP; the object (-ENOMEM); anon_inode_getfile (-ENOMEM),
 * which takes a users reference and iommufd_ctx_get; the fd; the response. A failed copy back
 * aborts the object but, in this 6.12.117 code, never fput()s the file: it leaks with its
 * reference on the iommufd context (fixed upstream later by an out_fput label).
 */
function faultAlloc(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const k = ctx.k;
  if (c.flags) return fail('EOPNOTSUPP', 'iommufd_fault_alloc', 'cmd->flags');
  const bad = objectAlloc(k, ctx.proc.mm, ictx, 'fault');
  if (bad) return bad;
  if (k.allocFails(ctx.proc, 'anon_inode_getfile: alloc_file_pseudo'))
    return fail('ENOMEM', 'anon_inode_getfile', 'IS_ERR(alloc_file_pseudo())');
  const ictxFile = k.files.get(ictx.file);
  if (!ictxFile) throw new Error('internal: the iommufd context has no open file');
  const fault: FaultObject = { type: 'fault', id: allocId(ictx), fileOpen: true };
  ictx.objects.set(fault.id, fault);
  ictxFile.refs++; // iommufd_ctx_get
  let fd = 3;
  while (ctx.proc.fds.get(fd)) fd++; // get_unused_fd_flags(O_CLOEXEC)
  const r = respond(u, { ...c, out_fault_id: BigInt(fault.id), out_fault_fd: BigInt(fd) });
  if (!r.ok) {
    ictx.objects.delete(fault.id); // the leaked file keeps ictxFile's reference
    return r;
  }
  const f = k.newFile('anon_inode:[iommufd-pgfault]', O_RDWR, FAULT_FOPS, { fault, ictxFile });
  k.installFd(ctx.proc, f as OpenFile);
  return ok(0);
}

/** The HWPT-family entries of iommufd_ioctl_ops[], in table order (0x89 .. 0x8e). */
export const HWPT_OPS: readonly IommufdOp[] = [
  {
    name: 'IOMMU_HWPT_ALLOC',
    feature: 'iommufd-hwpt-alloc',
    min: HWPT_MINSZ.hwpt_alloc,
    def: (k) =>
      k.profile.has('iommufd-fault-queue')
        ? iommu_hwpt_alloc
        : k.profile.has('iommufd-hwpt-alloc-user-data')
          ? iommu_hwpt_alloc_v67
          : iommu_hwpt_alloc_v66,
    execute: hwptAlloc,
  },
  {
    name: 'IOMMU_GET_HW_INFO',
    feature: 'iommufd-hwpt-alloc',
    min: HWPT_MINSZ.hw_info,
    def: (k) =>
      k.profile.has('iommufd-hw-info-pasid')
        ? iommu_hw_info
        : k.profile.has('iommufd-hw-info-capabilities')
          ? iommu_hw_info_v67
          : iommu_hw_info_v66,
    execute: getHwInfo,
  },
  {
    name: 'IOMMU_HWPT_SET_DIRTY_TRACKING',
    feature: 'iommufd-dirty-tracking',
    min: HWPT_MINSZ.set_dirty_tracking,
    def: () => iommu_hwpt_set_dirty_tracking,
    execute: setDirtyTracking,
  },
  {
    name: 'IOMMU_HWPT_GET_DIRTY_BITMAP',
    feature: 'iommufd-dirty-tracking',
    min: HWPT_MINSZ.get_dirty_bitmap,
    def: () => iommu_hwpt_get_dirty_bitmap,
    execute: getDirtyBitmap,
  },
  {
    name: 'IOMMU_HWPT_INVALIDATE',
    feature: 'iommufd-hwpt-invalidate',
    min: HWPT_MINSZ.invalidate,
    def: () => iommu_hwpt_invalidate,
    execute: hwptInvalidate,
  },
  {
    name: 'IOMMU_FAULT_QUEUE_ALLOC',
    feature: 'iommufd-fault-queue',
    min: HWPT_MINSZ.fault_alloc,
    def: () => iommu_fault_alloc,
    execute: faultAlloc,
  },
];
