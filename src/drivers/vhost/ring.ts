// drivers/vhost/vhost.c: how the device side reaches guest memory. With a
// device IOTLB every ring and buffer address is an IOVA translated through it
// (a miss queues an IOTLB MISS for userspace); without one, ring addresses are
// the owner's virtual addresses and buffer addresses guest-physical, translated
// through the memory table (vhost.md §9.7).
import { asEventFd, eventfdSignal } from '../../kernel/eventfd.js';
import type { CallCtx } from '../../kernel/file.js';
import type { Mm } from '../../kernel/memory.js';
import {
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
  VHOST_IOTLB_MISS,
  VIRTIO_RING_F_EVENT_IDX,
} from './bits.js';
import {
  hasBackendFeature,
  hasFeature,
  type MetaType,
  queueKick,
  type VhostDev,
  type VhostMsgNode,
  type VhostVirtqueue,
} from './dev.js';
import type { VhostIotlb } from './iotlb.js';

export interface Piece {
  addr: bigint;
  len: number;
}

export type XlateError = 'EAGAIN' | 'EFAULT' | 'EPERM' | 'ENOBUFS';

export function devOf(vq: VhostVirtqueue): VhostDev {
  if (!vq.dev) throw new Error('internal: vq without device');
  return vq.dev;
}

/**
 * vhost_iotlb_miss: queue a MISS on read_list, v2 format when MSG_V2 is acked; no de-duplication.
 * vhost_new_msg's kmalloc failing returns -ENOMEM, which both callers (iotlb_access_ok,
 * translate_desc) ignore: the access fails as it would have, only no MISS is queued. The caller in
 * task context is the owner, so the owner's mm is the task of the fault point.
 */
export function iotlbMiss(dev: VhostDev, vq: VhostVirtqueue, iova: bigint, access: number): void {
  const mm = dev.owner;
  if (mm?.fault?.alloc(mm, 'vhost_iotlb_miss: vhost_new_msg kmalloc')) return;
  const node: VhostMsgNode = {
    version: hasBackendFeature(vq, VHOST_BACKEND_F_IOTLB_MSG_V2) ? 2 : 1,
    asid: 0,
    iova,
    size: 0n,
    uaddr: 0n,
    perm: access,
    type: VHOST_IOTLB_MISS,
    vq: vq.index,
  };
  dev.readList.push(node);
}

/**
 * translate_desc: walks [addr, addr+len) through the device IOTLB (or the memory
 * table), queueing a MISS for the first uncovered address of a device IOTLB.
 */
export function translateDesc(
  dev: VhostDev,
  vq: VhostVirtqueue,
  addr: bigint,
  len: number,
  access: number,
  maxPieces = 1024,
): Piece[] | XlateError {
  const umem: VhostIotlb | null = dev.iotlb ?? dev.umem;
  if (!umem) return 'EFAULT';
  const pieces: Piece[] = [];
  let s = 0n;
  const total = BigInt(len);
  while (total > s) {
    if (pieces.length >= maxPieces) return 'ENOBUFS';
    const a = addr + s;
    const m = umem.itreeFirst(a, addr + total - 1n);
    if (!m || m.start > a) {
      if (dev.iotlb) {
        iotlbMiss(dev, vq, a, access);
        return 'EAGAIN';
      }
      return 'EFAULT';
    }
    if ((m.perm & access) !== access) return 'EPERM';
    const size = m.size - a + m.start;
    const n = size < total - s ? size : total - s;
    pieces.push({ addr: m.addr + a - m.start, len: Number(n) });
    s += n;
  }
  return pieces;
}

function readPieces(mm: Mm, pieces: Piece[], len: number): Uint8Array | undefined {
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of pieces) {
    const b = mm.readUser(p.addr, p.len);
    if (!b) return undefined;
    out.set(b, off);
    off += p.len;
  }
  return out;
}

function writePieces(mm: Mm, pieces: Piece[], data: Uint8Array): boolean {
  let off = 0;
  for (const p of pieces) {
    if (!mm.writeUser(p.addr, data.subarray(off, off + p.len))) return false;
    off += p.len;
  }
  return true;
}

/** vq_err: signal the vq's error eventfd, if one is set. */
export function vqErr(ctx: CallCtx, vq: VhostVirtqueue): void {
  const e = asEventFd(vq.err ?? undefined);
  if (e) eventfdSignal(ctx, e);
}

function ownerMm(dev: VhostDev): Mm | undefined {
  return dev.owner ?? undefined;
}

/**
 * __vhost_get_user / vhost_put_user on ring metadata. Without an IOTLB: a direct
 * access to the owner's address. With one: the prefetch cache, else the slow
 * path, which always translates with read permission (§11.4) and logs a vq error.
 */
function metaAccess(
  ctx: CallCtx,
  vq: VhostVirtqueue,
  addr: bigint,
  len: number,
  type: MetaType,
  data?: Uint8Array,
): Uint8Array | boolean {
  const dev = devOf(vq);
  const mm = ownerMm(dev);
  if (!mm) return false;
  if (!dev.iotlb) {
    return data ? mm.writeUser(addr, data) : (mm.readUser(addr, len) ?? false);
  }
  const m = vq.meta[type];
  if (m) {
    const ua = m.addr + addr - m.start;
    return data ? mm.writeUser(ua, data) : (mm.readUser(ua, len) ?? false);
  }
  const pieces = translateDesc(dev, vq, addr, len, VHOST_ACCESS_RO, 1);
  if (typeof pieces === 'string') {
    vqErr(ctx, vq);
    return false;
  }
  return data ? writePieces(mm, pieces, data) : (readPieces(mm, pieces, len) ?? false);
}

export function getMeta16(
  ctx: CallCtx,
  vq: VhostVirtqueue,
  addr: bigint,
  type: MetaType,
): number | undefined {
  const b = metaAccess(ctx, vq, addr, 2, type);
  return b instanceof Uint8Array ? b[0]! | (b[1]! << 8) : undefined;
}

export function putMeta(ctx: CallCtx, vq: VhostVirtqueue, addr: bigint, type: MetaType, data: Uint8Array) {
  return metaAccess(ctx, vq, addr, data.length, type, data) === true;
}

function le16(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >> 8) & 0xff]);
}

/** iotlb_access_ok: a ring region fully covered; the first hole queues a MISS. */
function iotlbAccessOk(
  dev: VhostDev,
  vq: VhostVirtqueue,
  access: number,
  addr: bigint,
  len: bigint,
  type: MetaType,
) {
  const umem = dev.iotlb!;
  const last = addr + len - 1n;
  let s = 0n;
  let a = addr;
  while (len > s) {
    const m = umem.itreeFirst(a, last);
    if (!m || m.start > a) {
      iotlbMiss(dev, vq, a, access);
      return false;
    }
    if ((m.perm & access) === 0) return false;
    const size = m.size - a + m.start;
    if (a === addr && size >= len) vq.meta[type] = m;
    s += size;
    a += size;
  }
  return true;
}

/**
 * vq_meta_prefetch: desc (RO), avail (RO), used (WO), stopping at the first failure. With Debian
 * 6.12's `iotlb-invalidate-vrings`, three zero ring addresses (what vhost_vq_invalidate_access
 * leaves) fail it first.
 */
export function vqMetaPrefetch(ctx: CallCtx, vq: VhostVirtqueue): boolean {
  if (vq.desc === 0n && vq.avail === 0n && vq.used === 0n && ctx.k.profile.has('iotlb-invalidate-vrings'))
    return false;
  const dev = devOf(vq);
  if (!dev.iotlb) return true;
  const n = BigInt(vq.num);
  const s = hasFeature(vq, VIRTIO_RING_F_EVENT_IDX) ? 2n : 0n;
  return (
    iotlbAccessOk(dev, vq, VHOST_ACCESS_RO, vq.desc, 16n * n, 0) &&
    iotlbAccessOk(dev, vq, VHOST_ACCESS_RO, vq.avail, 4n + 2n * n + s, 1) &&
    iotlbAccessOk(dev, vq, VHOST_ACCESS_WO, vq.used, 4n + 8n * n + s, 2)
  );
}

/** vhost_vq_init_access: write the used flags, read the used index (both through the IOTLB if any). */
export function vqInitAccess(ctx: CallCtx, vq: VhostVirtqueue): { function: string; check: string } | null {
  if (vq.backend === null) return null;
  if (!putMeta(ctx, vq, vq.used, 2, le16(vq.usedFlags))) {
    return { function: 'vhost_update_used_flags', check: 'vhost_put_used_flags(vq)' };
  }
  vq.signalledUsedValid = false;
  const idx = getMeta16(ctx, vq, vq.used + 2n, 2);
  if (idx === undefined)
    return { function: 'vhost_vq_init_access', check: 'vhost_get_used_idx(vq, &last_used_idx)' };
  vq.lastUsedIdx = idx;
  return null;
}

export interface DescChain {
  head: number;
  /** device-readable and device-writable pieces, in order */
  out: Piece[];
  in: Piece[];
  outLen: number;
  inLen: number;
}

const VRING_DESC_F_NEXT = 1;
const VRING_DESC_F_WRITE = 2;
const VRING_DESC_F_INDIRECT = 4;

/**
 * vhost_get_vq_desc: the next available chain. Returns 'empty' when the guest
 * has added nothing new, 'error' when an access failed (a MISS may be queued);
 * last_avail_idx moves only on success.
 */
export function getVqDesc(ctx: CallCtx, vq: VhostVirtqueue): DescChain | 'empty' | 'error' {
  const dev = devOf(vq);
  const mm = ownerMm(dev);
  if (!mm) return 'error';
  if (vq.availIdx === vq.lastAvailIdx) {
    const ai = getMeta16(ctx, vq, vq.avail + 2n, 1);
    if (ai === undefined) return 'error';
    vq.availIdx = ai;
    if (((vq.availIdx - vq.lastAvailIdx) & 0xffff) > vq.num) {
      vqErr(ctx, vq);
      return 'error';
    }
    if (vq.availIdx === vq.lastAvailIdx) return 'empty';
  }
  const slot = vq.lastAvailIdx % vq.num;
  const head = getMeta16(ctx, vq, vq.avail + 4n + 2n * BigInt(slot), 1);
  if (head === undefined) return 'error';
  if (head >= vq.num) {
    vqErr(ctx, vq);
    return 'error';
  }
  const chain: DescChain = { head, out: [], in: [], outLen: 0, inLen: 0 };
  let i = head;
  let count = 0;
  for (;;) {
    if (++count > vq.num) {
      vqErr(ctx, vq);
      return 'error';
    }
    const d = metaAccess(ctx, vq, vq.desc + 16n * BigInt(i), 16, 0);
    if (!(d instanceof Uint8Array)) return 'error';
    const view = new DataView(d.buffer);
    const addr = view.getBigUint64(0, true);
    const len = view.getUint32(8, true);
    const flags = view.getUint16(12, true);
    const next = view.getUint16(14, true);
    if (flags & VRING_DESC_F_INDIRECT) {
      // Indirect tables are not modelled: the chain is refused as the kernel does for a bad one.
      vqErr(ctx, vq);
      return 'error';
    }
    const access = flags & VRING_DESC_F_WRITE ? VHOST_ACCESS_WO : VHOST_ACCESS_RO;
    const pieces = translateDesc(dev, vq, addr, len, access);
    if (typeof pieces === 'string') {
      if (pieces !== 'EAGAIN') vqErr(ctx, vq);
      return 'error';
    }
    if (access === VHOST_ACCESS_WO) {
      chain.in.push(...pieces);
      chain.inLen += len;
    } else {
      if (chain.in.length) {
        vqErr(ctx, vq); // a readable descriptor after a writable one
        return 'error';
      }
      chain.out.push(...pieces);
      chain.outLen += len;
    }
    if (!(flags & VRING_DESC_F_NEXT)) break;
    i = next;
    if (i >= vq.num) {
      vqErr(ctx, vq);
      return 'error';
    }
  }
  vq.lastAvailIdx = (vq.lastAvailIdx + 1) & 0xffff;
  return chain;
}

/** vhost_discard_vq_desc */
export function discardVqDesc(vq: VhostVirtqueue, n: number): void {
  vq.lastAvailIdx = (vq.lastAvailIdx - n) & 0xffff;
}

/** Reads the bytes a chain's readable pieces hold (the device's view of a TX buffer). */
export function readChain(vq: VhostVirtqueue, chain: DescChain, len: number): Uint8Array | undefined {
  const mm = ownerMm(devOf(vq));
  if (!mm) return undefined;
  let want = len;
  const pieces: Piece[] = [];
  for (const p of chain.out) {
    if (want <= 0) break;
    const n = Math.min(p.len, want);
    pieces.push({ addr: p.addr, len: n });
    want -= n;
  }
  return readPieces(mm, pieces, len - Math.max(want, 0));
}

/** vhost_add_used: one used element, then the used index; false on a fault. */
export function addUsed(ctx: CallCtx, vq: VhostVirtqueue, head: number, len: number): boolean {
  const slot = vq.lastUsedIdx % vq.num;
  const elem = new Uint8Array(8);
  const v = new DataView(elem.buffer);
  v.setUint32(0, head, true);
  v.setUint32(4, len, true);
  if (!putMeta(ctx, vq, vq.used + 4n + 8n * BigInt(slot), 2, elem)) return false;
  const newIdx = (vq.lastUsedIdx + 1) & 0xffff;
  if (!putMeta(ctx, vq, vq.used + 2n, 2, le16(newIdx))) return false;
  vq.lastUsedIdx = newIdx;
  return true;
}

/** vhost_notify + vhost_signal: the call eventfd, unless the guest asked for no interrupt. */
export function vhostSignal(ctx: CallCtx, vq: VhostVirtqueue, old: number): void {
  let notify = true;
  if (hasFeature(vq, VIRTIO_RING_F_EVENT_IDX)) {
    const ev = getMeta16(ctx, vq, vq.avail + 4n + 2n * BigInt(vq.num), 1);
    if (ev !== undefined) {
      const nw = vq.lastUsedIdx;
      notify = ((nw - ev - 1) & 0xffff) < ((nw - old) & 0xffff);
    }
  } else {
    const flags = getMeta16(ctx, vq, vq.avail, 1);
    notify = flags === undefined || (flags & 1) === 0; // VRING_AVAIL_F_NO_INTERRUPT
  }
  vq.signalledUsed = vq.lastUsedIdx;
  vq.signalledUsedValid = true;
  const call = asEventFd(vq.call ?? undefined);
  if (notify && call) eventfdSignal(ctx, call);
}

/** vhost_poll_start on the kick eventfd: a kick already pending runs the handler at once. */
export function vhostPollStart(ctx: CallCtx, vq: VhostVirtqueue): void {
  const e = asEventFd(vq.kick ?? undefined);
  if (!e) return;
  const waiter = (c: CallCtx) => queueKick(c, vq);
  vq.kickWaiter = waiter;
  e.waiters.add(waiter);
  if (e.count > 0n) waiter(ctx);
}

/** vhost_poll_stop */
export function vhostPollStop(vq: VhostVirtqueue): void {
  const e = asEventFd(vq.kick ?? undefined);
  if (e && vq.kickWaiter) e.waiters.delete(vq.kickWaiter);
  vq.kickWaiter = null;
}

const VRING_USED_F_NO_NOTIFY = 1;

/** vhost_disable_notify: the guest need not kick while the handler runs. */
export function disableNotify(ctx: CallCtx, vq: VhostVirtqueue): void {
  if (vq.usedFlags & VRING_USED_F_NO_NOTIFY) return;
  vq.usedFlags |= VRING_USED_F_NO_NOTIFY;
  if (!hasFeature(vq, VIRTIO_RING_F_EVENT_IDX) && !putMeta(ctx, vq, vq.used, 2, le16(vq.usedFlags))) {
    vqErr(ctx, vq);
  }
}

/** vhost_enable_notify: true when the guest added buffers meanwhile (the handler loops again). */
export function enableNotify(ctx: CallCtx, vq: VhostVirtqueue): boolean {
  if (!(vq.usedFlags & VRING_USED_F_NO_NOTIFY)) return false;
  vq.usedFlags &= ~VRING_USED_F_NO_NOTIFY;
  if (!hasFeature(vq, VIRTIO_RING_F_EVENT_IDX)) {
    if (!putMeta(ctx, vq, vq.used, 2, le16(vq.usedFlags))) {
      vqErr(ctx, vq);
      return false;
    }
  } else {
    const ev = le16(vq.availIdx);
    if (!putMeta(ctx, vq, vq.used + 4n + 8n * BigInt(vq.num), 2, ev)) {
      vqErr(ctx, vq);
      return false;
    }
  }
  const ai = getMeta16(ctx, vq, vq.avail + 2n, 1);
  if (ai === undefined) {
    vqErr(ctx, vq);
    return false;
  }
  return ai !== vq.availIdx;
}
