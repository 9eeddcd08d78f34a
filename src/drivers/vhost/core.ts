// drivers/vhost/vhost.c: ownership, vhost_dev_ioctl, vhost_vring_ioctl, the
// memory table and the access checks shared by vhost-net, vhost-vsock and
// vhost-vdpa (vhost.md §5-§7).
import { asEventFd } from '../../kernel/eventfd.js';
import type { CallCtx, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { type Fail, fail, ok, type SysResult } from '../../kernel/result.js';
import { copyScalarFromUser, copyStructFromUser, copyStructToUser, getUser } from '../../kernel/uaccess.js';
import {
  vhost_memory,
  vhost_memory_region,
  vhost_vring_addr,
  vhost_vring_file,
  vhost_vring_state,
  vhostIoctl,
} from '../../uapi/vhost.js';
import { VHOST_F_LOG_ALL, VIRTIO_F_RING_PACKED, VIRTIO_RING_F_EVENT_IDX } from './bits.js';
import { hasFeature, metaReset, resetVirtqueue, U64_MAX, type VhostDev, type VhostVirtqueue } from './dev.js';
import { VhostIotlb } from './iotlb.js';
import { vhostPollStart, vhostPollStop } from './ring.js';

export const NR = {
  SET_OWNER: vhostIoctl('VHOST_SET_OWNER').number,
  RESET_OWNER: vhostIoctl('VHOST_RESET_OWNER').number,
  GET_FEATURES: vhostIoctl('VHOST_GET_FEATURES').number,
  SET_FEATURES: vhostIoctl('VHOST_SET_FEATURES').number,
  SET_MEM_TABLE: vhostIoctl('VHOST_SET_MEM_TABLE').number,
  SET_LOG_BASE: vhostIoctl('VHOST_SET_LOG_BASE').number,
  SET_LOG_FD: vhostIoctl('VHOST_SET_LOG_FD').number,
  SET_VRING_NUM: vhostIoctl('VHOST_SET_VRING_NUM').number,
  SET_VRING_ADDR: vhostIoctl('VHOST_SET_VRING_ADDR').number,
  SET_VRING_BASE: vhostIoctl('VHOST_SET_VRING_BASE').number,
  GET_VRING_BASE: vhostIoctl('VHOST_GET_VRING_BASE').number,
  SET_VRING_ENDIAN: vhostIoctl('VHOST_SET_VRING_ENDIAN').number,
  GET_VRING_ENDIAN: vhostIoctl('VHOST_GET_VRING_ENDIAN').number,
  SET_VRING_KICK: vhostIoctl('VHOST_SET_VRING_KICK').number,
  SET_VRING_CALL: vhostIoctl('VHOST_SET_VRING_CALL').number,
  SET_VRING_ERR: vhostIoctl('VHOST_SET_VRING_ERR').number,
  SET_VRING_BUSYLOOP_TIMEOUT: vhostIoctl('VHOST_SET_VRING_BUSYLOOP_TIMEOUT').number,
  GET_VRING_BUSYLOOP_TIMEOUT: vhostIoctl('VHOST_GET_VRING_BUSYLOOP_TIMEOUT').number,
  SET_BACKEND_FEATURES: vhostIoctl('VHOST_SET_BACKEND_FEATURES').number,
  GET_BACKEND_FEATURES: vhostIoctl('VHOST_GET_BACKEND_FEATURES').number,
} as const;

/**
 * vhost_dev_set_owner's allocations, in the release's order: 6.1 creates the worker kthread
 * (kthread_create's kmalloc) before vhost_dev_alloc_iovecs; the vhost_task profiles (6.6 on) allocate
 * the iovecs first, then vhost_worker_create (kzalloc of the worker, then vhost_task_create's), as
 * 6.12 does; 6.4's first vhost_task code still made the worker first, and the swap came with the
 * multi-worker rework after it (not checked against 6.6's source: no profile models 6.4, so
 * 'vhost-worker-task' stands for the later order). Every vq
 * gets indirect, log and heads, all three allocated before the check (log and heads have iov_limit
 * entries: UIO_MAXIOV for vhost-net and vhost-vsock; vhost-vdpa's 0 is ZERO_SIZE_PTR, no slab
 * allocation, and it has no worker). Any failure is -ENOMEM and unwinds everything before it (the
 * worker stopped, the iovecs freed, the mm detached): the device stays without owner.
 */
function ownerAllocs(ctx: CallCtx, dev: VhostDev): Fail | null {
  const k = ctx.k;
  const p = ctx.proc;
  const fn = 'vhost_dev_set_owner';
  const vdpa = dev.family === 'vhost-vdpa';
  const iovecs = (): Fail | null => {
    for (const vq of dev.vqs) {
      const site = `vhost_dev_alloc_iovecs: kmalloc_array vq ${vq.index}`;
      const indirect = k.allocFails(p, `${site} indirect`);
      const log = !vdpa && k.allocFails(p, `${site} log`);
      const heads = !vdpa && k.allocFails(p, `${site} heads`);
      if (indirect || log || heads)
        return fail('ENOMEM', 'vhost_dev_alloc_iovecs', '!vq->indirect || !vq->log || !vq->heads');
    }
    return null;
  };
  const worker = (): Fail | null => {
    if (vdpa) return null;
    if (!k.profile.has('vhost-worker-task')) {
      return k.allocFails(p, 'kthread_create_on_node: kmalloc create')
        ? fail('ENOMEM', fn, 'IS_ERR(worker) (kthread_create: -ENOMEM)')
        : null;
    }
    if (
      k.allocFails(p, 'vhost_worker_create: kzalloc worker') ||
      k.allocFails(p, 'vhost_task_create: kzalloc vtsk')
    )
      return fail('ENOMEM', fn, '!worker (vhost_worker_create)');
    return null;
  };
  return k.profile.has('vhost-worker-task') ? (iovecs() ?? worker()) : (worker() ?? iovecs());
}

export const MAX_MEM_REGIONS = 64;
const VHOST_PAGE_SIZE = 0x1000n;
const ENOIOCTLCMD_CHECK = 'default: return -ENOIOCTLCMD';

/** vhost_dev_has_owner */
export function hasOwner(dev: VhostDev): boolean {
  return dev.owner !== null;
}

/** vhost_dev_check_owner: the caller's mm must be the owner's (EPERM also with no owner at all). */
export function checkOwner(ctx: CallCtx, dev: VhostDev, fn = 'vhost_dev_check_owner'): Fail | null {
  return dev.owner === ctx.proc.mm ? null : fail('EPERM', fn, 'dev->mm != current->mm');
}

/** vhost_dev_set_owner */
export function setOwner(ctx: CallCtx, dev: VhostDev): SysResult {
  if (hasOwner(dev)) return fail('EBUSY', 'vhost_dev_set_owner', 'vhost_dev_has_owner(dev)');
  const e = ownerAllocs(ctx, dev);
  if (e) return e;
  dev.owner = ctx.proc.mm;
  dev.ownerProc = ctx.proc;
  return ok(0);
}

/** vhost_iotlb_alloc(max_iotlb_entries, VHOST_IOTLB_FLAG_RETIRE) */
export function newIotlb(k: Kernel): VhostIotlb {
  return new VhostIotlb({
    limit: k.machine.limits.max_iotlb_entries,
    retire: true,
    splitFullRange: k.profile.has('iotlb-split-full-range'),
    enforceLimit: k.profile.has('iotlb-limit-enospc'),
  });
}

/**
 * vhost_init_device_iotlb: a new, empty device IOTLB for the device and every vq. False when
 * iotlb_alloc's kzalloc fails (-ENOMEM; the old IOTLB stays): both callers then return -EFAULT.
 */
export function initDeviceIotlb(ctx: CallCtx, dev: VhostDev): boolean {
  if (ctx.k.allocFails(ctx.proc, 'vhost_init_device_iotlb: iotlb_alloc (vhost_iotlb_alloc kzalloc)'))
    return false;
  const first = dev.iotlb === null;
  dev.iotlb = newIotlb(ctx.k);
  metaReset(dev);
  // Debian 6.12: user addresses do not carry over as IOVAs (oiotlb ? __vhost_vq_meta_reset :
  // vhost_vq_invalidate_access)
  if (first && ctx.k.profile.has('iotlb-invalidate-vrings')) for (const vq of dev.vqs) invalidateAccess(vq);
  return true;
}

/**
 * The device IOTLB goes away: ring and buffer addresses are plain addresses again. Debian 6.12's
 * vhost_clear_device_iotlb also clears the rings (IOVAs are not user addresses) and the queued
 * messages, and does nothing when there is no IOTLB.
 */
export function dropDeviceIotlb(ctx: CallCtx, dev: VhostDev): void {
  if (dev.iotlb === null) return;
  dev.iotlb = null;
  metaReset(dev);
  if (ctx.k.profile.has('iotlb-invalidate-vrings')) {
    for (const vq of dev.vqs) invalidateAccess(vq);
    clearMsgs(dev);
  }
}

/** vhost_vq_invalidate_access (Debian 6.12); both callers have already reset the vqs' meta cache */
function invalidateAccess(vq: VhostVirtqueue): void {
  vq.desc = 0n;
  vq.avail = 0n;
  vq.used = 0n;
  vq.logUsed = false;
  vq.logAddr = U64_MAX;
}

/** vhost_clear_msg: drops every queued message (read and pending lists). */
export function clearMsgs(dev: VhostDev): void {
  dev.readList = [];
  dev.pendingList = [];
}

function dropFile(k: Kernel, f: OpenFile | null): void {
  if (f) k.fput(f);
}

/** vhost_dev_cleanup (+ vhost_dev_stop): eventfds dropped, tables freed, messages discarded, owner cleared. */
export function devCleanup(k: Kernel, dev: VhostDev): void {
  for (const vq of dev.vqs) {
    vhostPollStop(vq);
    dropFile(k, vq.kick);
    dropFile(k, vq.call);
    dropFile(k, vq.err);
    resetVirtqueue(vq);
  }
  dropFile(k, dev.logCtx);
  dev.logCtx = null;
  dev.umem = null;
  dev.iotlb = null;
  clearMsgs(dev);
  dev.owner = null;
  dev.ownerProc = null;
}

/** log_access_ok: the dirty bitmap for [addr, addr+sz) lies in user space. */
function logAccessOk(k: Kernel, logBase: bigint, addr: bigint, sz: bigint): boolean {
  const a = addr / VHOST_PAGE_SIZE / 8n;
  const ULONG_MAX = (1n << 64n) - 1n;
  if (a > ULONG_MAX - logBase || a + logBase > ULONG_MAX) return false;
  return k.accessOk(logBase + a, (sz + VHOST_PAGE_SIZE * 8n - 1n) / VHOST_PAGE_SIZE / 8n);
}

/** vq_memory_access_ok: every region of the table is user memory (and, when logging, its log). */
function vqMemoryAccessOk(k: Kernel, logBase: bigint, umem: VhostIotlb | null, logAll: boolean): boolean {
  if (!umem) return false;
  for (const m of umem.maps()) {
    if (!k.accessOk(m.addr, m.size)) return false;
    if (logAll && !logAccessOk(k, logBase, m.start, m.size)) return false;
  }
  return true;
}

/** memory_access_ok: can the device switch to this table? Only running vqs are checked. */
function memoryAccessOk(k: Kernel, dev: VhostDev, umem: VhostIotlb | null, logAll: boolean): boolean {
  for (const vq of dev.vqs) {
    const log = logAll || hasFeature(vq, VHOST_F_LOG_ALL);
    if (vq.backend !== null && !vqMemoryAccessOk(k, vq.logBase, umem, log)) return false;
  }
  return true;
}

/** vhost_log_access_ok */
export function logAccessOkDev(k: Kernel, dev: VhostDev): boolean {
  return memoryAccessOk(k, dev, dev.umem, true);
}

function eventIdxExtra(vq: VhostVirtqueue): bigint {
  return hasFeature(vq, VIRTIO_RING_F_EVENT_IDX) ? 2n : 0n;
}

/** vq_access_ok: with a device IOTLB the ring addresses are IOVAs, checked at prefetch time instead. */
function vqAccessOk(
  k: Kernel,
  dev: VhostDev,
  vq: VhostVirtqueue,
  num: number,
  desc: bigint,
  avail: bigint,
  used: bigint,
): boolean {
  if (dev.iotlb) return true;
  const n = BigInt(num);
  const s = eventIdxExtra(vq);
  return k.accessOk(desc, 16n * n) && k.accessOk(avail, 4n + 2n * n + s) && k.accessOk(used, 4n + 8n * n + s);
}

/** vq_log_used_access_ok */
function vqLogUsedAccessOk(
  k: Kernel,
  vq: VhostVirtqueue,
  logBase: bigint,
  logUsed: boolean,
  logAddr: bigint,
): boolean {
  if (!logUsed) return true;
  const s = eventIdxExtra(vq);
  return logAccessOk(k, logBase, logAddr, 4n + 8n * BigInt(vq.num) + s);
}

/**
 * vhost_vq_access_ok: the check SET_RUNNING and NET_SET_BACKEND make. Returns the failing
 * function and check, or null. The memory table must exist even with a device IOTLB (4.17+).
 */
export function vqAccessCheck(
  k: Kernel,
  dev: VhostDev,
  vq: VhostVirtqueue,
): { function: string; check: string } | null {
  if (!dev.umem) return { function: 'vq_memory_access_ok', check: '!umem' };
  if (!vqMemoryAccessOk(k, vq.logBase, dev.umem, hasFeature(vq, VHOST_F_LOG_ALL))) {
    return { function: 'vq_memory_access_ok', check: '!access_ok(map->addr, map->size)' };
  }
  if (!vqLogUsedAccessOk(k, vq, vq.logBase, vq.logUsed, vq.logAddr)) {
    return { function: 'vq_log_used_access_ok', check: '!log_access_ok(log_base, log_addr, ...)' };
  }
  if (!vqAccessOk(k, dev, vq, vq.num, vq.desc, vq.avail, vq.used)) {
    return { function: 'vq_access_ok', check: '!access_ok(desc/avail/used)' };
  }
  return null;
}

/** vhost_set_memory (VHOST_SET_MEM_TABLE) */
function setMemory(ctx: CallCtx, dev: VhostDev, argp: bigint): SysResult {
  const fn = 'vhost_set_memory';
  const hdr = copyStructFromUser(ctx, argp, vhost_memory);
  if (!hdr) return fail('EFAULT', fn, 'copy_from_user(&mem, m, size)');
  if (hdr.padding !== 0n) return fail('EOPNOTSUPP', fn, 'mem.padding');
  const n = Number(hdr.nregions);
  if (n > MAX_MEM_REGIONS) return fail('E2BIG', fn, 'mem.nregions > max_mem_regions');
  // every failure below frees newmem (and newumem) and leaves the old table in place
  if (ctx.k.allocFails(ctx.proc, 'vhost_set_memory: kvzalloc newmem'))
    return fail('ENOMEM', fn, '!newmem (kvzalloc)');
  const bytes = ctx.proc.mm.copyFromUser(argp + BigInt(vhost_memory.size), n * vhost_memory_region.size);
  if (!bytes) return fail('EFAULT', fn, 'copy_from_user(newmem->regions, ...)');
  if (ctx.k.allocFails(ctx.proc, 'vhost_set_memory: iotlb_alloc (vhost_iotlb_alloc kzalloc)'))
    return fail('ENOMEM', fn, '!newumem (iotlb_alloc)');
  const newumem = newIotlb(ctx.k);
  const view = new DataView(bytes.buffer);
  const mapFails = () => ctx.k.allocFails(ctx.proc, 'vhost_iotlb_add_range_ctx: kmalloc map');
  for (let i = 0; i < n; i++) {
    const o = i * vhost_memory_region.size;
    const gpa = view.getBigUint64(o, true);
    const size = view.getBigUint64(o + 8, true);
    const uaddr = view.getBigUint64(o + 16, true);
    const last = BigInt.asUintN(64, gpa + size - 1n);
    const r = newumem.addRange(gpa, last, uaddr, 0x3, undefined, mapFails);
    // goto err: -EFAULT whatever vhost_iotlb_add_range returned (-ENOMEM included)
    if (r !== 'ok') {
      const why = r === 'ENOMEM' ? 'kmalloc failed: -ENOMEM' : 'last < start';
      return fail('EFAULT', fn, `vhost_iotlb_add_range(newumem, ...) (${why})`);
    }
  }
  if (!memoryAccessOk(ctx.k, dev, newumem, false))
    return fail('EFAULT', fn, '!memory_access_ok(d, newumem, 0)');
  dev.umem = newumem;
  return ok(0);
}

/** vhost_dev_ioctl: SET_OWNER first, then the owner check, then the device-level commands. */
export function devIoctl(ctx: CallCtx, dev: VhostDev, cmd: number, argp: bigint): SysResult {
  if (cmd === NR.SET_OWNER) return setOwner(ctx, dev);
  const e = checkOwner(ctx, dev);
  if (e) return e;
  switch (cmd) {
    case NR.SET_MEM_TABLE:
      return setMemory(ctx, dev, argp);
    case NR.SET_LOG_BASE: {
      const p = copyScalarFromUser(ctx.proc.mm, argp, 'u64');
      if (p === undefined) return fail('EFAULT', 'vhost_dev_ioctl', 'copy_from_user(&p, argp, sizeof p)');
      let r: SysResult = ok(0);
      for (const vq of dev.vqs) {
        if (vq.backend !== null && !vqLogAccessOk(ctx.k, dev, vq, p)) {
          r = fail('EFAULT', 'vhost_dev_ioctl', 'vq->private_data && !vq_log_access_ok(vq, base)');
        } else {
          vq.logBase = p;
        }
      }
      return r;
    }
    case NR.SET_LOG_FD: {
      const fd = getUser(ctx.proc.mm, argp, 's32');
      if (fd === undefined) return fail('EFAULT', 'vhost_dev_ioctl', 'get_user(fd, (int __user *)argp)');
      let file: OpenFile | null = null;
      if (fd !== -1n) {
        const r = eventfdGet(ctx, Number(fd), 'vhost_dev_ioctl');
        if ('ok' in r) return r;
        file = r;
      }
      if (dev.logCtx) ctx.k.fput(dev.logCtx);
      dev.logCtx = file;
      return ok(0);
    }
    default:
      return fail('ENOIOCTLCMD', 'vhost_dev_ioctl', ENOIOCTLCMD_CHECK);
  }
}

function vqLogAccessOk(k: Kernel, dev: VhostDev, vq: VhostVirtqueue, logBase: bigint): boolean {
  return (
    vqMemoryAccessOk(k, logBase, dev.umem, hasFeature(vq, VHOST_F_LOG_ALL)) &&
    vqLogUsedAccessOk(k, vq, logBase, vq.logUsed, vq.logAddr)
  );
}

/** eventfd_ctx_fdget: EBADF for no file, EINVAL for a file that is not an eventfd. Takes a reference. */
export function eventfdGet(ctx: CallCtx, fd: number, fn: string): OpenFile | Fail {
  const f = ctx.k.fget(ctx.proc, fd);
  if (!f) return fail('EBADF', fn, 'eventfd_ctx_fdget: !fd_file(f)');
  if (!asEventFd(f)) return fail('EINVAL', fn, 'eventfd_ctx_fileget: file->f_op != &eventfd_fops');
  f.refs++;
  return f;
}

/** vhost_vring_set_num_addr: NUM and ADDR, refused with EBUSY while the vq runs (NUM only). */
function setVringNum(ctx: CallCtx, vq: VhostVirtqueue, argp: bigint): SysResult {
  const fn = 'vhost_vring_set_num';
  if (vq.backend !== null) return fail('EBUSY', fn, 'vq->private_data');
  const s = copyStructFromUser(ctx, argp, vhost_vring_state);
  if (!s) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof s)');
  const num = s.num!;
  if (num === 0n || num > 0xffffn || (num & (num - 1n)) !== 0n) {
    return fail('EINVAL', fn, '!s.num || s.num > 0xffff || (s.num & (s.num - 1))');
  }
  vq.num = Number(num);
  return ok(0);
}

function setVringAddr(ctx: CallCtx, dev: VhostDev, vq: VhostVirtqueue, argp: bigint): SysResult {
  const fn = 'vhost_vring_set_addr';
  const a = copyStructFromUser(ctx, argp, vhost_vring_addr);
  if (!a) return fail('EFAULT', fn, 'copy_from_user(&a, argp, sizeof a)');
  if ((a.flags! & ~1n) !== 0n) return fail('EOPNOTSUPP', fn, 'a.flags & ~(0x1 << VHOST_VRING_F_LOG)');
  const avail = a.avail_user_addr!;
  const used = a.used_user_addr!;
  const logAddr = a.log_guest_addr!;
  if ((avail & 1n) !== 0n || (used & 3n) !== 0n || (logAddr & 3n) !== 0n) {
    return fail('EINVAL', fn, 'avail & (sizeof *vq->avail->ring - 1) || used & ... || log_guest_addr & ...');
  }
  const logUsed = (a.flags! & 1n) !== 0n;
  if (vq.backend !== null) {
    if (!vqAccessOk(ctx.k, dev, vq, vq.num, a.desc_user_addr!, avail, used)) {
      return fail('EINVAL', fn, 'vq->private_data && !vq_access_ok(vq, vq->num, desc, avail, used)');
    }
    if (!vqLogUsedAccessOk(ctx.k, vq, vq.logBase, logUsed, logAddr)) {
      return fail('EINVAL', fn, 'vq->private_data && !vq_log_used_access_ok(...)');
    }
  }
  vq.logUsed = logUsed;
  vq.desc = a.desc_user_addr!;
  vq.avail = avail;
  vq.logAddr = logAddr;
  vq.used = used;
  return ok(0);
}

function setVringFile(
  ctx: CallCtx,
  vq: VhostVirtqueue,
  argp: bigint,
  which: 'kick' | 'call' | 'err',
): SysResult {
  const fn = 'vhost_vring_ioctl';
  const f = copyStructFromUser(ctx, argp, vhost_vring_file);
  if (!f) return fail('EFAULT', fn, 'copy_from_user(&f, argp, sizeof f)');
  let file: OpenFile | null = null;
  if (f.fd !== -1n) {
    const r = eventfdGet(ctx, Number(f.fd), fn);
    if ('ok' in r) return r;
    file = r;
  }
  const fdNum = file ? Number(f.fd) : -1;
  if (which === 'kick') {
    vq.kickFd = fdNum;
    if (file !== vq.kick) {
      vhostPollStop(vq);
      if (vq.kick) ctx.k.fput(vq.kick);
      vq.kick = file;
      if (file) vhostPollStart(ctx, vq);
    } else if (file) {
      ctx.k.fput(file); // same file again: a no-op, the extra reference goes
    }
    return ok(0);
  }
  const old = vq[which];
  vq[which] = file;
  if (which === 'call') vq.callFd = fdNum;
  else vq.errFd = fdNum;
  if (old) ctx.k.fput(old);
  return ok(0);
}

/** vhost_vring_ioctl: the index first (EFAULT, ENOBUFS), then the command under the vq mutex. */
export function vringIoctl(ctx: CallCtx, dev: VhostDev, cmd: number, argp: bigint): SysResult {
  const fn = 'vhost_vring_ioctl';
  const idx = getUser(ctx.proc.mm, argp, 'u32');
  if (idx === undefined) return fail('EFAULT', fn, 'get_user(idx, idxp)');
  if (idx >= BigInt(dev.vqs.length)) return fail('ENOBUFS', fn, 'idx >= d->nvqs');
  const vq = dev.vqs[Number(idx)]!;
  switch (cmd) {
    case NR.SET_VRING_NUM:
      return setVringNum(ctx, vq, argp);
    case NR.SET_VRING_ADDR:
      return setVringAddr(ctx, dev, vq, argp);
    case NR.SET_VRING_BASE: {
      if (vq.backend !== null) return fail('EBUSY', fn, 'VHOST_SET_VRING_BASE: vq->private_data');
      const s = copyStructFromUser(ctx, argp, vhost_vring_state);
      if (!s) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof s)');
      if (hasFeature(vq, VIRTIO_F_RING_PACKED) && ctx.k.profile.has('iotlb-split-full-range')) {
        vq.lastAvailIdx = Number(s.num! & 0xffffn);
        vq.lastUsedIdx = Number((s.num! >> 16n) & 0xffffn);
      } else {
        if (s.num! > 0xffffn) return fail('EINVAL', fn, 'VHOST_SET_VRING_BASE: s.num > 0xffff');
        vq.lastAvailIdx = Number(s.num!);
      }
      vq.availIdx = vq.lastAvailIdx;
      return ok(0);
    }
    case NR.GET_VRING_BASE: {
      const num = hasFeature(vq, VIRTIO_F_RING_PACKED)
        ? BigInt(vq.lastAvailIdx) | (BigInt(vq.lastUsedIdx) << 16n)
        : BigInt(vq.lastAvailIdx);
      if (!copyStructToUser(ctx, argp, vhost_vring_state, { index: idx, num })) {
        return fail('EFAULT', fn, 'copy_to_user(argp, &s, sizeof s)');
      }
      return ok(0);
    }
    case NR.SET_VRING_KICK:
      return setVringFile(ctx, vq, argp, 'kick');
    case NR.SET_VRING_CALL:
      return setVringFile(ctx, vq, argp, 'call');
    case NR.SET_VRING_ERR:
      return setVringFile(ctx, vq, argp, 'err');
    case NR.SET_VRING_BUSYLOOP_TIMEOUT: {
      const s = copyStructFromUser(ctx, argp, vhost_vring_state);
      if (!s) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof(s))');
      vq.busyloopTimeout = Number(s.num!);
      return ok(0);
    }
    case NR.GET_VRING_BUSYLOOP_TIMEOUT: {
      if (!copyStructToUser(ctx, argp, vhost_vring_state, { index: idx, num: BigInt(vq.busyloopTimeout) })) {
        return fail('EFAULT', fn, 'copy_to_user(argp, &s, sizeof(s))');
      }
      return ok(0);
    }
    // SET/GET_VRING_ENDIAN exist only with CONFIG_VHOST_CROSS_ENDIAN_LEGACY, which the
    // modelled configs (Debian's among them) leave out: they fall to the default.
    default:
      return fail('ENOIOCTLCMD', fn, ENOIOCTLCMD_CHECK);
  }
}

/** The fall-through both net and vsock use: vhost_dev_ioctl, then vhost_vring_ioctl on ENOIOCTLCMD. */
export function devOrVringIoctl(ctx: CallCtx, dev: VhostDev, cmd: number, argp: bigint): SysResult {
  const r = devIoctl(ctx, dev, cmd, argp);
  if (!r.ok && r.errno === 'ENOIOCTLCMD') return vringIoctl(ctx, dev, cmd, argp);
  return r;
}
