// drivers/vhost/vhost.c: the IOTLB message protocol over write(), read() and
// poll() (vhost.md §9.3-§9.6): vhost_chr_write_iter, vhost_process_iotlb_msg,
// vhost_chr_read_iter, vhost_chr_poll.
import { POLLIN, POLLRDNORM } from '../../kernel/eventfd.js';
import type { CallCtx } from '../../kernel/file.js';
import type { Mm } from '../../kernel/memory.js';
import {
  type Blocked,
  type Fail,
  fail,
  ok,
  replaceErrno,
  type SysOutcome,
  type SysResult,
} from '../../kernel/result.js';
import { VHOST_MSG_SIZE } from '../../uapi/vhost.js';
import {
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
  VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_MISS,
  VHOST_IOTLB_MSG,
  VHOST_IOTLB_MSG_V2,
  VHOST_IOTLB_UPDATE,
} from './bits.js';
import { hasBackendFeature, metaReset, queueKick, type VhostDev, type VhostMsgNode } from './dev.js';

export interface IotlbMsg {
  iova: bigint;
  size: bigint;
  uaddr: bigint;
  perm: number;
  type: number;
}

/**
 * A family's message handler (dev->msg_handler). `arg` is what the kernel's handler reaches by container_of
 * (vhost-vdpa: its struct vhost_vdpa), passed along rather than captured in a closure per write().
 */
export type MsgHandler<T = undefined> = (
  ctx: CallCtx,
  dev: VhostDev,
  asid: number,
  msg: IotlbMsg,
  arg: T,
) => Fail | null;

const ULONG_MAX = (1n << 64n) - 1n;

/** vhost_overflow */
function overflow(uaddr: bigint, size: bigint): boolean {
  return uaddr > ULONG_MAX - size;
}

/** umem_access_ok */
function umemAccessOk(ctx: CallCtx, uaddr: bigint, size: bigint, access: number): boolean {
  if (overflow(uaddr, size)) return false;
  if (access & VHOST_ACCESS_RO && !ctx.k.accessOk(uaddr, size)) return false;
  if (access & VHOST_ACCESS_WO && !ctx.k.accessOk(uaddr, size)) return false;
  return true;
}

/** vhost_iotlb_notify_vq: re-kick every vq whose MISS was read and is covered by this UPDATE. */
function notifyVq(ctx: CallCtx, dev: VhostDev, msg: IotlbMsg): void {
  const last = msg.iova + msg.size - 1n;
  const kick: number[] = [];
  dev.pendingList = dev.pendingList.filter((n) => {
    const hit = msg.iova <= n.iova && last >= n.iova && n.type === VHOST_IOTLB_MISS;
    if (hit) kick.push(n.vq);
    return !hit;
  });
  for (const i of kick) {
    const vq = dev.vqs[i]!;
    queueKick(ctx, vq);
  }
}

/** vhost_process_iotlb_msg: the handler of vhost-net and vhost-vsock. No owner check. */
export function processIotlbMsg(ctx: CallCtx, dev: VhostDev, asid: number, msg: IotlbMsg): Fail | null {
  const fn = 'vhost_process_iotlb_msg';
  if (asid !== 0) return fail('EINVAL', fn, 'asid != 0');
  switch (msg.type) {
    case VHOST_IOTLB_UPDATE: {
      if (!dev.iotlb) return fail('EFAULT', fn, 'VHOST_IOTLB_UPDATE: !dev->iotlb');
      if (!umemAccessOk(ctx, msg.uaddr, msg.size, msg.perm)) {
        return fail('EFAULT', fn, '!umem_access_ok(msg->uaddr, msg->size, msg->perm)');
      }
      metaReset(dev);
      const last = BigInt.asUintN(64, msg.iova + msg.size - 1n);
      const mapFails = () => ctx.k.allocFails(ctx.proc, 'vhost_iotlb_add_range_ctx: kmalloc map');
      const r = dev.iotlb.addRange(msg.iova, last, msg.uaddr, msg.perm, undefined, mapFails);
      if (r !== 'ok') {
        // the handler returns -ENOMEM for either failure (vhost_chr_write_iter then says EFAULT)
        const why = r === 'ENOMEM' ? 'kmalloc failed' : 'iova + size - 1 < iova';
        return fail('ENOMEM', fn, `vhost_iotlb_add_range() (${why})`);
      }
      notifyVq(ctx, dev, msg);
      return null;
    }
    case VHOST_IOTLB_INVALIDATE: {
      if (!dev.iotlb) return fail('EFAULT', fn, 'VHOST_IOTLB_INVALIDATE: !dev->iotlb');
      metaReset(dev);
      dev.iotlb.freeRange(msg.iova, BigInt.asUintN(64, msg.iova + msg.size - 1n));
      return null;
    }
    default:
      return fail('EINVAL', fn, 'default: unknown msg->type');
  }
}

/**
 * The bytes write() parses, copied here rather than into a buffer per call (a typed array costs more to
 * make than the whole parse): the fields are read out before the handler runs, and nothing re-enters.
 */
const WRITE_SCRATCH = new Uint8Array(40);
/** write()'s result for a whole message, made once (results are not mutated; ok(0) is shared the same way) */
const WROTE_MSG = ok(VHOST_MSG_SIZE);
const WRITE_VIEW = new DataView(WRITE_SCRATCH.buffer);

/**
 * One copy_from_iter of bytes [off, off + n) of the message into WRITE_SCRATCH (`whole`: all 40 are
 * there already). A function of its own, not a closure in chrWrite: one fewer allocation per write().
 */
function copyField(mm: Mm, buf: bigint, len: number, whole: boolean, off: number, n: number): boolean {
  if (off < len && mm.fault?.copy(mm, 'copy_from_iter')) return false;
  if (off + n > len) return false;
  return whole || mm.copyFromUserInto(buf + BigInt(off), WRITE_SCRATCH, off, n);
}

/** vhost_chr_write_iter: parse a v1 or v2 message from the user buffer and hand it to the handler. */
export function chrWrite(ctx: CallCtx, dev: VhostDev, buf: bigint, len: number): SysResult;
export function chrWrite<T>(
  ctx: CallCtx,
  dev: VhostDev,
  buf: bigint,
  len: number,
  handler: MsgHandler<T>,
  arg: T,
): SysResult;
export function chrWrite<T>(
  ctx: CallCtx,
  dev: VhostDev,
  buf: bigint,
  len: number,
  handler: MsgHandler<T> = processIotlbMsg as MsgHandler<T>,
  arg?: T,
): SysResult {
  const fn = 'vhost_chr_write_iter';
  const mm = ctx.proc.mm;
  const raw = WRITE_SCRATCH;
  // The parser needs bytes [0, 40): one copy of them is the common case. When that copy
  // faults (or the write is short) each field is copied on its own, as copy_from_iter
  // does, so a fault past what the kernel reads still succeeds and a short copy is EINVAL.
  // Each copy_from_iter is a fault point of its own (copyin's should_fail_usercopy), when the
  // iterator has bytes left for it.
  const whole = len >= 40 && mm.copyFromUserInto(buf, raw, 0, 40);
  if (!copyField(mm, buf, len, whole, 0, 4))
    return fail('EINVAL', fn, 'copy_from_iter(&type, sizeof(type), from) != sizeof(type)');
  const type = WRITE_VIEW.getUint32(0, true);
  let asid = 0;
  let off = 4;
  if (type === VHOST_IOTLB_MSG) {
    off += 4; // the alignment hole of struct vhost_msg
  } else if (type === VHOST_IOTLB_MSG_V2) {
    if (hasBackendFeature(dev.vqs[0]!, VHOST_BACKEND_F_IOTLB_ASID)) {
      if (!copyField(mm, buf, len, whole, 4, 4))
        return fail('EINVAL', fn, 'copy_from_iter(&asid, sizeof(asid), from) != sizeof(asid)');
      asid = WRITE_VIEW.getUint32(4, true);
    }
    off += 4;
  } else {
    return fail('EINVAL', fn, 'switch (type): default');
  }
  if (!copyField(mm, buf, len, whole, off, 32))
    return fail('EINVAL', fn, 'copy_from_iter(&msg, sizeof(msg), from) != sizeof(msg)');
  const msg: IotlbMsg = {
    iova: WRITE_VIEW.getBigUint64(off, true),
    size: WRITE_VIEW.getBigUint64(off + 8, true),
    uaddr: WRITE_VIEW.getBigUint64(off + 16, true),
    perm: raw[off + 24]!,
    type: raw[off + 25]!,
  };
  if (msg.size === 0n && ctx.k.profile.has('iotlb-size0-check')) {
    if (msg.type === VHOST_IOTLB_UPDATE)
      return fail('EINVAL', fn, 'msg.type == VHOST_IOTLB_UPDATE && msg.size == 0');
    if (msg.type === VHOST_IOTLB_INVALIDATE && !ctx.k.profile.has('iotlb-invalidate-size0')) {
      return fail('EINVAL', fn, 'msg.type == VHOST_IOTLB_INVALIDATE && msg.size == 0');
    }
  }
  const e = handler(ctx, dev, asid, msg, arg as T);
  if (e) return replaceErrno('EFAULT', e);
  return WROTE_MSG;
}

/** Encodes a queued message as read() copies it: struct vhost_msg (v1) or vhost_msg_v2. */
export function encodeMsg(n: VhostMsgNode): Uint8Array {
  const b = new Uint8Array(VHOST_MSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, n.version === 2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG, true);
  if (n.version === 2) v.setUint32(4, n.asid, true);
  v.setBigUint64(8, n.iova, true);
  v.setBigUint64(16, n.size, true);
  v.setBigUint64(24, n.uaddr, true);
  b[32] = n.perm;
  b[33] = n.type;
  return b;
}

/** vhost_chr_read_iter */
export function chrRead(
  ctx: CallCtx,
  dev: VhostDev,
  buf: bigint,
  len: number,
  nonblock: boolean,
): SysOutcome {
  const fn = 'vhost_chr_read_iter';
  if (len < VHOST_MSG_SIZE) return ok(0);
  const node = dev.readList[0];
  if (!node) {
    if (nonblock) return fail('EAGAIN', fn, 'noblock && list_empty(&dev->read_list)');
    if (!dev.iotlb) return fail('EBADFD', fn, '!dev->iotlb');
    const blocked: Blocked = {
      ok: 'blocked',
      retry: () => (dev.readList.length || !dev.iotlb ? chrRead(ctx, dev, buf, len, false) : blocked),
    };
    return blocked;
  }
  dev.readList.shift();
  const bytes = encodeMsg(node);
  if (!ctx.proc.mm.copyToUser(buf, bytes)) return ok(0); // copy_to_iter copied nothing: the message is freed
  if (node.type === VHOST_IOTLB_MISS) dev.pendingList.push(node);
  return ok(VHOST_MSG_SIZE);
}

/** vhost_chr_poll: readable while read_list holds a message; never writable. */
export function chrPoll(dev: VhostDev): number {
  return dev.readList.length ? POLLIN | POLLRDNORM : 0;
}
