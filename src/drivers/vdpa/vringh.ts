// drivers/vhost/vringh.c, the *_iotlb flavour vdpa_sim uses: the device side of a split virtqueue,
// every access going through the device's own translation (dma.ts). Errors end the work loop as
// vringh's negative returns do; nothing is reported to userspace.
import type { DmaView } from './dma.js';

const VRING_DESC_F_NEXT = 1;
const VRING_DESC_F_WRITE = 2;
const VRING_DESC_F_INDIRECT = 4;
const VRING_AVAIL_F_NO_INTERRUPT = 1;

/** struct vringh: the ring addresses and the device's indices */
export interface Vringh {
  num: number;
  desc: bigint;
  avail: bigint;
  used: bigint;
  lastAvailIdx: number;
  lastUsedIdx: number;
}

export interface Iov {
  addr: bigint;
  len: number;
}

/** a descriptor chain: device-readable (out) and device-writable (in) buffers */
export interface Chain {
  head: number;
  out: Iov[];
  in: Iov[];
}

const u16 = (b: Uint8Array, o = 0): number => b[o]! | (b[o + 1]! << 8);

/** vringh_getdesc_iotlb: the next available chain, 'empty', or 'error' (a bad ring or descriptor). */
export function getDesc(dma: DmaView, vrh: Vringh): Chain | 'empty' | 'error' {
  const idxB = dma.read(vrh.avail + 2n, 2);
  if (!idxB) return 'error';
  if (u16(idxB) === vrh.lastAvailIdx) return 'empty';
  // __vringh_iov: `last_avail_idx & (vring.num - 1)` in u32. A vq made ready without a num (0) masks
  // with 0xffffffff, and the head check below then fails every head (-EINVAL), as in the kernel.
  const slot = vrh.lastAvailIdx & ((vrh.num - 1) >>> 0);
  const headB = dma.read(vrh.avail + 4n + BigInt(2 * slot), 2);
  if (!headB) return 'error';
  const head = u16(headB);
  if (head >= vrh.num) return 'error';
  const chain: Chain = { head, out: [], in: [] };
  let table = vrh.desc;
  let size = vrh.num;
  let i = head;
  for (let guard = 0; guard <= vrh.num + 1; guard++) {
    const d = dma.read(table + BigInt(16 * i), 16);
    if (!d) return 'error';
    const v = new DataView(d.buffer);
    const addr = v.getBigUint64(0, true);
    const len = v.getUint32(8, true);
    const flags = v.getUint16(12, true);
    const next = v.getUint16(14, true);
    if (flags & VRING_DESC_F_INDIRECT) {
      if (table !== vrh.desc || len % 16 !== 0 || len === 0) return 'error';
      table = addr;
      size = len / 16;
      i = 0;
      continue;
    }
    if (flags & VRING_DESC_F_WRITE) chain.in.push({ addr, len });
    else if (chain.in.length)
      return 'error'; // a readable descriptor after a writable one
    else chain.out.push({ addr, len });
    if (!(flags & VRING_DESC_F_NEXT)) {
      vrh.lastAvailIdx = (vrh.lastAvailIdx + 1) & 0xffff;
      return chain;
    }
    if (next >= size) return 'error';
    i = next;
  }
  return 'error'; // a loop in the chain
}

/** vringh_iov_pull_iotlb: up to `max` bytes from the readable buffers, consuming them. */
export function pull(dma: DmaView, iovs: Iov[], max: number): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (iovs.length && total < max) {
    const iov = iovs[0]!;
    const n = Math.min(iov.len, max - total);
    const b = dma.read(iov.addr, n);
    if (!b) return undefined;
    parts.push(b);
    total += n;
    iov.addr += BigInt(n);
    iov.len -= n;
    if (!iov.len) iovs.shift();
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** vringh_iov_push_iotlb: copies `data` into the writable buffers; the bytes written, or −1 on a fault. */
export function push(dma: DmaView, iovs: Iov[], data: Uint8Array): number {
  let done = 0;
  while (iovs.length && done < data.length) {
    const iov = iovs[0]!;
    const n = Math.min(iov.len, data.length - done);
    if (!dma.write(iov.addr, data.subarray(done, done + n))) return -1;
    done += n;
    iov.addr += BigInt(n);
    iov.len -= n;
    if (!iov.len) iovs.shift();
  }
  return done;
}

/** vringh_kiov_advance: skips `n` bytes of buffers. */
export function advance(iovs: Iov[], n: number): void {
  while (iovs.length && n > 0) {
    const iov = iovs[0]!;
    const k = Math.min(iov.len, n);
    iov.addr += BigInt(k);
    iov.len -= k;
    n -= k;
    if (!iov.len) iovs.shift();
  }
}

export const iovLength = (iovs: Iov[]): number => iovs.reduce((s, i) => s + i.len, 0);

/** vringh_complete_iotlb: one used element, then the used index. False when the used ring faults. */
export function complete(dma: DmaView, vrh: Vringh, head: number, len: number): boolean {
  const slot = vrh.lastUsedIdx % vrh.num;
  const e = new Uint8Array(8);
  const v = new DataView(e.buffer);
  v.setUint32(0, head, true);
  v.setUint32(4, len, true);
  if (!dma.write(vrh.used + 4n + BigInt(8 * slot), e)) return false;
  vrh.lastUsedIdx = (vrh.lastUsedIdx + 1) & 0xffff;
  const idx = new Uint8Array([vrh.lastUsedIdx & 0xff, vrh.lastUsedIdx >> 8]);
  return dma.write(vrh.used + 2n, idx);
}

/** vringh_need_notify_iotlb without EVENT_IDX: unless the driver set VRING_AVAIL_F_NO_INTERRUPT. */
export function needNotify(dma: DmaView, vrh: Vringh): boolean {
  const f = dma.read(vrh.avail, 2);
  return f !== undefined && (u16(f) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
}
