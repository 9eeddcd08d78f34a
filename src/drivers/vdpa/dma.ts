// The simulated device's own view of memory: an IOVA goes through the vq's address space (the vdpa_sim
// iommu[asid] table that set_map / dma_map filled), then to memory. vringh_init_iotlb (PA mode): the
// entry's addr is a physical address of pinned pages; vringh_init_iotlb_va (use_va with a bound mm): it is
// a user virtual address in the bound mm, read through that mm as the kernel thread's kthread_use_mm does.
import type { Kernel } from '../../kernel/kernel.js';
import type { MemObject, Mm } from '../../kernel/memory.js';
import type { VhostIotlb } from '../vhost/iotlb.js';

const VHOST_MAP_RO = 0x1;
const VHOST_MAP_WO = 0x2;
const U64_MAX = (1n << 64n) - 1n;
/** objects up to 2^32 bytes: a pinned page's "physical address" is (object id << 32) + offset */
const PHYS_SHIFT = 32n;

/** The physical memory vioctl hands out for pinned pages: object id → object (per kernel). */
function physObjects(k: Kernel): Map<number, MemObject> {
  let m = k.globals.get('vdpa-phys') as Map<number, MemObject> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('vdpa-phys', m);
  }
  return m;
}

/** page_to_phys of a pinned page: pages of one object are physically contiguous in vioctl. */
export function physAddr(k: Kernel, obj: MemObject, off: bigint): bigint {
  physObjects(k).set(obj.id, obj);
  return (BigInt(obj.id) << PHYS_SHIFT) + off;
}

/** The object and offset of a physical address vioctl handed out, if any. */
export function physLookup(k: Kernel, pa: bigint): { obj: MemObject; off: bigint } | undefined {
  const obj = physObjects(k).get(Number(pa >> PHYS_SHIFT));
  const off = pa & ((1n << PHYS_SHIFT) - 1n);
  return obj && off < obj.size ? { obj, off } : undefined;
}

/** How the device reaches memory through one address space. */
export interface DmaView {
  read(iova: bigint, len: number): Uint8Array | undefined;
  write(iova: bigint, data: Uint8Array): boolean;
}

/** iotlb_translate (vringh.c): the pieces of [iova, iova+len) with the needed permission, or undefined. */
function translate(
  iotlb: VhostIotlb,
  iova: bigint,
  len: number,
  perm: number,
): { addr: bigint; len: number }[] | undefined {
  const out: { addr: bigint; len: number }[] = [];
  let done = 0;
  while (done < len) {
    const a = iova + BigInt(done);
    if (a > U64_MAX) return undefined;
    const m = iotlb.itreeFirst(a, a);
    if (!m || m.start > a || (m.perm & perm) !== perm) return undefined;
    const n = Number(min(m.last - a + 1n, BigInt(len - done)));
    out.push({ addr: (m.addr + (a - m.start)) & U64_MAX, len: n });
    done += n;
  }
  return out;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The device's DMA through `iotlb`: through `mm` (VA mode) or physical memory (PA mode). */
export function dmaView(k: Kernel, iotlb: VhostIotlb, mm: Mm | null): DmaView {
  return {
    read(iova, len) {
      const pieces = translate(iotlb, iova, len, VHOST_MAP_RO);
      if (!pieces) return undefined;
      const out = new Uint8Array(len);
      let o = 0;
      for (const p of pieces) {
        const b = mm ? mm.readUser(p.addr, p.len) : physRead(k, p.addr, p.len);
        if (!b) return undefined;
        out.set(b, o);
        o += p.len;
      }
      return out;
    },
    write(iova, data) {
      const pieces = translate(iotlb, iova, data.length, VHOST_MAP_WO);
      if (!pieces) return false;
      let o = 0;
      for (const p of pieces) {
        const chunk = data.subarray(o, o + p.len);
        if (mm ? !mm.writeUser(p.addr, chunk) : !physWrite(k, p.addr, chunk)) return false;
        o += p.len;
      }
      return true;
    },
  };
}

function physRead(k: Kernel, pa: bigint, len: number): Uint8Array | undefined {
  const at = physLookup(k, pa);
  if (!at || at.off + BigInt(len) > at.obj.size) return undefined;
  return at.obj.read(at.off, len);
}

function physWrite(k: Kernel, pa: bigint, data: Uint8Array): boolean {
  const at = physLookup(k, pa);
  if (!at || at.off + BigInt(data.length) > at.obj.size) return false;
  at.obj.write(at.off, data);
  return true;
}
