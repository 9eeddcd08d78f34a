// Memory objects and address spaces. Every process has its own mm; mappings
// are placed top-down from a per-mm base, so addresses are deterministic.
// copy_from_user / copy_to_user check these mappings as the kernel's fault
// path would: an address with no mapping, or without the needed protection, is
// EFAULT at the call site. copyFromUser / copyToUser are fault points (fault.ts):
// an injected fault fails them before any access check, as should_fail_usercopy()
// comes first in _copy_from_user; readUser / writeUser are the same accesses
// without one (get_user / put_user, kernel threads, and the runner's own reads).
import type { FaultInjector } from './fault.js';

export const PAGE_SIZE = 0x1000n;
/** Copies up to this many bytes go byte by byte: a subarray view costs more than the loop (IOTLB messages). */
const SMALL_COPY = 128;
/** Copies of at least this many bytes (up to SMALL_COPY) go four bytes at a time: fewer element accesses. */
const WORD_COPY = 16;

let lastDst: Uint8Array | undefined;
let lastDstView: DataView | undefined;
/** A DataView of dst, kept for the next copy into the same buffer (the hot callers reuse one). */
function dstView(dst: Uint8Array): DataView {
  if (dst !== lastDst || lastDstView === undefined) {
    lastDstView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    lastDst = dst;
  }
  return lastDstView;
}
/** x86-64 TASK_SIZE_MAX with 4-level paging: the end of user space. */
export const TASK_SIZE_MAX = 0x7ffffffff000n;
/**
 * TASK_SIZE_MAX with 5-level paging, access_ok()'s limit on the modelled machine: the oracle's QEMU
 * guest (TCG -cpu max, LA57, CONFIG_X86_5LEVEL=y) answers UPDATE of [2^56 - 8 KiB, +4 KiB) with 72
 * and of [2^56 - 4 KiB ... ) or 0x7ffffffffffff000 with EFAULT on 6.1 and 6.12 alike. Mappings stay
 * below the 4-level TASK_SIZE_MAX, as mmap without an address hint places them there.
 */
export const TASK_SIZE_MAX_LA57 = (1n << 56n) - 0x1000n;
/** TASK_SIZE_MAX as a Number (exact: it is below 2^53) */
const TASK_SIZE_MAX_NUM = Number(TASK_SIZE_MAX);
/** 2^53 - 1: offsets and addresses up to here are exact as Numbers, and the fast paths use them so */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The key of page `pg` (a page index) in a MemObject's map: a Number whenever it is exact (every offset
 * below 2^65), a bigint past that, so each page has exactly one key.
 */
function pageKey(pg: bigint): number | bigint {
  return pg <= MAX_SAFE && pg >= -MAX_SAFE ? Number(pg) : pg;
}
export const PROT_READ = 1;
export const PROT_WRITE = 2;

export type MemKind = 'anon' | 'shared-anon' | 'memfd' | 'device';

/** A memory object (an anonymous region, a memfd, a device's pages). Pages are allocated on first write. */
export class MemObject {
  readonly id: number;
  /** keyed by pageKey(page index) */
  private readonly pages = new Map<number | bigint, Uint8Array>();
  /**
   * The page the last access found (a Number index, -1 for none): pages are never freed, and one allocated
   * later was not there to be cached, so this needs no invalidation.
   */
  #lastPg = -1;
  #lastPage: Uint8Array | undefined;
  /** a view of #lastPage for word copies, made on first use */
  #lastView: DataView | undefined;
  /** pages currently pinned for DMA (vhost-vdpa PA mode, vfio type1) */
  pinned = 0;

  constructor(
    readonly kind: MemKind,
    readonly size: bigint,
    id: number,
  ) {
    this.id = id;
  }

  read(off: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.readInto(off, out, 0, len);
    return out;
  }

  /** Copies `len` bytes at `off` into `dst` at `at` (pages never written read as zeros). */
  readInto(off: bigint, dst: Uint8Array, at: number, len: number): void {
    if (off >= 0n && off <= MAX_SAFE) {
      const o = Number(off);
      // exact whenever the sum is at most 2^53 - 1 (a larger true sum cannot round below it)
      if (o + len <= Number.MAX_SAFE_INTEGER) {
        this.readIntoAt(o, dst, at, len);
        return;
      }
    }
    let done = 0;
    while (done < len) {
      const pos = off + BigInt(done);
      const pg = pos / PAGE_SIZE;
      const inPage = Number(pos - pg * PAGE_SIZE);
      const n = Math.min(len - done, 4096 - inPage);
      const page = this.pages.get(pageKey(pg));
      if (!page) dst.fill(0, at + done, at + done + n);
      else if (n <= SMALL_COPY) for (let i = 0; i < n; i++) dst[at + done + i] = page[inPage + i]!;
      else dst.set(page.subarray(inPage, inPage + n), at + done);
      done += n;
    }
  }

  /** readInto with a Number offset: off >= 0 and off + len <= 2^53 - 1. */
  readIntoAt(off: number, dst: Uint8Array, at: number, len: number): void {
    let done = 0;
    while (done < len) {
      const pos = off + done;
      const inPage = pos % 4096;
      const pg = (pos - inPage) / 4096;
      const n = Math.min(len - done, 4096 - inPage);
      const page = this.#pageAt(pg);
      if (!page) dst.fill(0, at + done, at + done + n);
      else if (n < WORD_COPY) for (let i = 0; i < n; i++) dst[at + done + i] = page[inPage + i]!;
      else if (n <= SMALL_COPY) {
        // four bytes at a time through DataViews (any alignment, every bit pattern exact), then the tail
        const src = (this.#lastView ??= new DataView(page.buffer, page.byteOffset, 4096));
        const to = dstView(dst);
        const d = at + done;
        let i = 0;
        for (; i + 4 <= n; i += 4) to.setInt32(d + i, src.getInt32(inPage + i));
        for (; i < n; i++) dst[d + i] = page[inPage + i]!;
      } else dst.set(page.subarray(inPage, inPage + n), at + done);
      done += n;
    }
  }

  /** The page of Number index pg, if written (through the last-page cache). */
  #pageAt(pg: number): Uint8Array | undefined {
    if (pg === this.#lastPg) return this.#lastPage;
    const page = this.pages.get(pg);
    if (page) {
      this.#lastPg = pg;
      this.#lastPage = page;
      this.#lastView = undefined;
    }
    return page;
  }

  write(off: bigint, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const pos = off + BigInt(done);
      const pg = pos / PAGE_SIZE;
      const inPage = Number(pos % PAGE_SIZE);
      const n = Math.min(data.length - done, 4096 - inPage);
      const key = pageKey(pg);
      let page = this.pages.get(key);
      if (!page) {
        page = new Uint8Array(4096);
        this.pages.set(key, page);
      }
      if (n <= SMALL_COPY) for (let i = 0; i < n; i++) page[inPage + i] = data[done + i]!;
      else page.set(done === 0 && n === data.length ? data : data.subarray(done, done + n), inPage);
      done += n;
    }
  }

  /** A private copy (fork of a private mapping). */
  copy(id: number): MemObject {
    const o = new MemObject(this.kind, this.size, id);
    for (const [k, v] of this.pages) o.pages.set(k, v.slice());
    return o;
  }
}

export interface Vma {
  readonly start: bigint;
  /** exclusive */
  readonly end: bigint;
  readonly obj: MemObject;
  /** offset of `start` inside obj */
  readonly pgoff: bigint;
  readonly prot: number;
  readonly shared: boolean;
  /** the scenario's name for the mapping; internal scratch mappings have none and are not shown */
  name?: string;
  /** set for the scratch area the runner builds ioctl arguments in */
  readonly hidden?: boolean;
  /** a device mapping (VM_IO | VM_PFNMAP): copy_from_user cannot reach it */
  readonly io?: boolean;
}

export class Mm {
  /** sorted by start, non-overlapping */
  readonly vmas: Vma[] = [];
  /** the kernel's fault injector (set by the kernel that made this address space) */
  fault: FaultInjector | undefined;
  #scratch: Vma | undefined;
  /**
   * The VMA copyFromUserInto last found, at vmas[#hitIdx], with its bounds as Numbers (#hitEnd clamped to
   * TASK_SIZE_MAX) and #hitBase = pgoff - start. Valid only while vmas[#hitIdx] is still that VMA: every
   * change of the list (mmap, munmap, exit's truncation, a VMA replaced by a new one with other
   * protections) moves or replaces it there, and VMAs never overlap, so a VMA still in the list is still
   * the one holding its range. Set only for VMAs whose object offsets are exact as Numbers.
   */
  #hit: Vma | undefined;
  #hitIdx = -1;
  #hitStart = 0;
  #hitEnd = 0;
  #hitBase = 0;

  constructor(
    readonly id: number,
    /** the next top-down allocation ends here */
    public top: bigint,
  ) {}

  /** The runner's argument area (hidden from state tables). */
  scratchVma(): Vma {
    if (!this.#scratch || !this.vmas.includes(this.#scratch))
      this.#scratch = this.vmas.find((m) => m.hidden && !m.io);
    if (!this.#scratch) throw new Error('internal: address space without scratch mapping');
    return this.#scratch;
  }

  findVma(addr: bigint): Vma | undefined {
    const i = this.#vmaIndex(addr);
    return i < 0 ? undefined : this.vmas[i];
  }

  /** The index of the VMA holding addr in the sorted, non-overlapping vmas, or -1. */
  #vmaIndex(addr: bigint): number {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid]!;
      if (addr < m.start) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** find_vma: the first VMA ending above addr, which need not contain it. */
  findVmaAbove(addr: bigint): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    return v[lo];
  }

  overlaps(start: bigint, end: bigint): boolean {
    return this.vmas.some((m) => m.start < end && start < m.end);
  }

  insert(vma: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < vma.start) i++;
    this.vmas.splice(i, 0, vma);
  }

  /** The next free top-down address for `size` bytes (page-rounded). */
  allocate(size: bigint): bigint {
    const len = roundUp(size);
    let addr = this.top - len;
    while (this.overlaps(addr, addr + len)) addr -= PAGE_SIZE;
    this.top = addr;
    return addr;
  }

  remove(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
  }

  /** Removes every mapping in [start, end) (munmap), splitting none: vioctl unmaps whole mappings. */
  unmapRange(start: bigint, end: bigint): Vma[] {
    const gone = this.vmas.filter((m) => m.start < end && start < m.end);
    for (const m of gone) this.remove(m);
    return gone;
  }

  /**
   * Walks [addr, addr+len) through the mappings, calling fn per piece; false when
   * a byte is unmapped or lacks `prot` (the fault the kernel turns into EFAULT).
   */
  private walk(
    addr: bigint,
    len: number,
    prot: number,
    fn: (vma: Vma, objOff: bigint, done: number, n: number) => void,
  ): boolean {
    if (len === 0) return true;
    if (addr < 0n || addr + BigInt(len) > TASK_SIZE_MAX) return false;
    let done = 0;
    while (done < len) {
      const pos = addr + BigInt(done);
      const vma = this.findVma(pos);
      if (!vma || vma.io || (vma.prot & prot) !== prot) return false;
      const n = Number(minBig(vma.end - pos, BigInt(len - done)));
      fn(vma, vma.pgoff + (pos - vma.start), done, n);
      done += n;
    }
    return true;
  }

  /** Whether every byte of [addr, addr+len) is mapped with `prot`, without touching it. */
  accessible(addr: bigint, len: number, prot: number): boolean {
    return this.walk(addr, len, prot, () => {});
  }

  /** copy_from_user: the bytes, or undefined where the kernel would get EFAULT (or a fault is injected). */
  copyFromUser(addr: bigint, len: number): Uint8Array | undefined {
    if (this.fault?.copy(this, 'copy_from_user')) return undefined;
    return this.readUser(addr, len);
  }

  /** copy_to_user: false where the kernel would get EFAULT or a fault is injected (nothing is written then). */
  copyToUser(addr: bigint, data: Uint8Array): boolean {
    if (this.fault?.copy(this, 'copy_to_user')) return false;
    return this.writeUser(addr, data);
  }

  /** get_user-style read: copy_from_user's checks without a fault point. */
  readUser(addr: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    return this.copyFromUserInto(addr, out, 0, len) ? out : undefined;
  }

  /**
   * copy_from_user into dst[at, at + len): false (dst then partly written) where the kernel would get
   * EFAULT. For hot paths that parse into a buffer of their own instead of allocating one per call.
   */
  copyFromUserInto(addr: bigint, dst: Uint8Array, at: number, len: number): boolean {
    // the commonest case, in Numbers: the mapping of the last copy holds the whole range
    if (len > 0 && addr >= 0n && addr <= MAX_SAFE) {
      const a = Number(addr);
      // a + len is exact when at most TASK_SIZE_MAX (a larger true sum cannot round below it)
      if (a + len <= TASK_SIZE_MAX_NUM) {
        let v = this.#hit;
        if (v === undefined || this.vmas[this.#hitIdx] !== v || a < this.#hitStart || a >= this.#hitEnd)
          v = this.#cache(addr);
        if (v !== undefined && a + len <= this.#hitEnd && !v.io && v.prot & PROT_READ) {
          v.obj.readIntoAt(this.#hitBase + a, dst, at, len);
          return true;
        }
      }
    }
    // the common case: one mapping holds the whole range
    if (len > 0 && addr >= 0n) {
      const end = addr + BigInt(len);
      if (end <= TASK_SIZE_MAX) {
        const vma = this.findVma(addr);
        if (vma && !vma.io && vma.prot & PROT_READ && end <= vma.end) {
          vma.obj.readInto(vma.pgoff + (addr - vma.start), dst, at, len);
          return true;
        }
      }
    }
    return this.walk(addr, len, PROT_READ, (vma, off, done, n) => vma.obj.readInto(off, dst, at + done, n));
  }

  /** Looks up the VMA holding addr (below TASK_SIZE_MAX) for the copy cache: it, when cacheable. */
  #cache(addr: bigint): Vma | undefined {
    this.#hit = undefined;
    const i = this.#vmaIndex(addr);
    if (i < 0) return undefined;
    const m = this.vmas[i]!;
    // object offsets pgoff + (addr - start) for addr in [start, end) must be exact as Numbers
    if (m.start < 0n || m.pgoff < 0n || m.pgoff + (m.end - m.start) > MAX_SAFE) return undefined;
    this.#hit = m;
    this.#hitIdx = i;
    this.#hitStart = Number(m.start);
    this.#hitEnd = Number(m.end < TASK_SIZE_MAX ? m.end : TASK_SIZE_MAX);
    this.#hitBase = Number(m.pgoff - m.start);
    return m;
  }

  /** put_user-style write: copy_to_user's checks without a fault point. */
  writeUser(addr: bigint, data: Uint8Array): boolean {
    if (!this.accessible(addr, data.length, PROT_WRITE)) return false;
    return this.walk(addr, data.length, PROT_WRITE, (vma, off, done, n) =>
      vma.obj.write(off, data.subarray(done, done + n)),
    );
  }

  /** fork(): shared mappings keep their objects, private ones are copied. */
  clone(id: number, newObjectId: () => number): Mm {
    const mm = new Mm(id, this.top);
    mm.fault = this.fault;
    for (const v of this.vmas) mm.vmas.push({ ...v, obj: v.shared ? v.obj : v.obj.copy(newObjectId()) });
    return mm;
  }
}

export function roundUp(size: bigint): bigint {
  return ((size + PAGE_SIZE - 1n) / PAGE_SIZE) * PAGE_SIZE;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * access_ok(): the range lies in user space and does not wrap. `limit` is where
 * the release's x86 check ends user space: TASK_SIZE_MAX for the generic
 * __access_ok (6.1) and 6.12's valid_user_address (USER_PTR_MAX), the sign bit
 * for the valid_user_address of 6.4 to 6.11.
 */
export function accessOk(addr: bigint, size: bigint, limit: bigint = TASK_SIZE_MAX): boolean {
  const end = addr + size;
  return addr >= 0n && size >= 0n && end < 1n << 64n && end <= limit;
}

/** the sign-bit form of access_ok's limit */
export const SIGN_BIT_LIMIT = 1n << 63n;
