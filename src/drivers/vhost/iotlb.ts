// drivers/vhost/iotlb.c, include/linux/vhost_iotlb.h: struct vhost_iotlb (vhost.md §9.1). An interval tree of
// maps (overlaps allowed, iterated in (start, insertion) order), a FIFO list in insertion order for
// VHOST_IOTLB_FLAG_RETIRE, and the nmaps counter.
import { bigintSharer, IntervalNode, IntervalTree } from '../../kernel/interval-tree.js';

const U64_MAX = (1n << 64n) - 1n;

/** most maps of a table have one size (a page); one UPDATE adds the same range to vhost's table and the device's */
const shareSize = bigintSharer();
const shareLast = bigintSharer();

/**
 * struct vhost_iotlb_map. The objects handed out are the IOTLB's own (the kernel hands out pointers): read
 * them, don't mutate them. `size` is last − start + 1 kept exact: the unsplit full range [0, 2^64−1] (before
 * 5.17, or with splitFullRange off) has size 2^64n here, where the kernel's u64 wraps to 0.
 */
export interface IotlbMap {
  start: bigint;
  last: bigint;
  size: bigint;
  addr: bigint;
  perm: number;
  opaque?: unknown;
}

export interface IotlbOptions {
  /** 0 = unlimited; only enforced together with retire */
  limit: number;
  /** VHOST_IOTLB_FLAG_RETIRE */
  retire: boolean;
  /** 5.17+ e2ae38cf3d91: [0, U64_MAX] stored as two entries */
  splitFullRange: boolean;
  /** profile 'iotlb-limit-enospc': the limit holds without RETIRE too, and 0 is no longer "unlimited" */
  enforceLimit?: boolean;
}

/** what vhost_iotlb_add_range_ctx returns: 0, or the negative errno's name */
export type AddRangeResult = 'ok' | 'EFAULT' | 'ENOMEM' | 'ENOSPC' | 'EINVAL';

/**
 * struct vhost_iotlb_map as handed out: the public fields, and, private, what the kernel's struct embeds
 * besides: its interval tree node (the IntervalNode it extends) and its link in the FIFO list. One object
 * per map, so itree_next finds a map's tree position in O(1) without a side table.
 */
class MapNode extends IntervalNode implements IotlbMap {
  /** the FIFO list (struct vhost_iotlb_map.link): the next older and newer map */
  #older: MapNode | undefined;
  #newer: MapNode | undefined = undefined;
  declare opaque?: unknown;
  constructor(
    start: bigint,
    last: bigint,
    public size: bigint,
    public addr: bigint,
    public perm: number,
    opaque: unknown,
    older: MapNode | undefined,
  ) {
    super(start, last);
    if (opaque !== undefined) this.opaque = opaque;
    this.#older = older;
  }

  /** list_add_tail: n goes after `newest` */
  static linkNewer(newest: MapNode, n: MapNode): void {
    newest.#newer = n;
  }

  static olderOf(n: MapNode): MapNode | undefined {
    return n.#older;
  }

  static newerOf(n: MapNode): MapNode | undefined {
    return n.#newer;
  }

  /** list_del */
  static unlink(n: MapNode): void {
    const older = n.#older;
    const newer = n.#newer;
    if (older) older.#newer = newer;
    if (newer) newer.#older = older;
    n.#older = n.#newer = undefined;
  }

  /** vhost_iotlb_reset's kfree of every map: its FIFO links go */
  static orphan(n: MapNode): void {
    n.#older = n.#newer = undefined;
  }
}

export class VhostIotlb {
  readonly #opts: IotlbOptions;
  readonly #root = new IntervalTree<MapNode>();
  #nmaps = 0;
  /** FIFO list: head = oldest inserted, tail = newest (list_add_tail) */
  #oldest: MapNode | undefined;
  #newest: MapNode | undefined;

  /**
   * vhost_iotlb_add_range_ctx's RETIRE eviction: optional callback invoked with each map it frees (so a
   * driver can unpin). Not called by del_range or reset.
   */
  onRetire?: (m: IotlbMap) => void;

  /** vhost_iotlb_alloc(limit, flags) */
  constructor(opts: IotlbOptions) {
    this.#opts = { ...opts };
  }

  /** vhost_iotlb.nmaps */
  get nmaps(): number {
    return this.#nmaps;
  }

  /**
   * vhost_iotlb_add_range_ctx: 'ok' (0) or the negative errno's name: EFAULT when last < start; ENOMEM when
   * the map's kmalloc fails (`allocFails` is that allocation's fault point, fault.ts, asked only where the
   * kernel allocates: a full RETIRE IOTLB reuses its oldest map instead); with enforceLimit, EINVAL for a
   * limit of 0 and ENOSPC for a full table without RETIRE. A split full range whose second half fails
   * keeps its first half, as the kernel's does. There is no overlap check: overlapping and identical maps
   * coexist.
   */
  addRange(
    start: bigint,
    last: bigint,
    addr: bigint,
    perm: number,
    opaque?: unknown,
    allocFails?: () => boolean,
  ): AddRangeResult {
    if (last < start) return 'EFAULT';
    const { limit, retire, enforceLimit } = this.#opts;
    if (enforceLimit && limit === 0) return 'EINVAL';
    if (this.#opts.splitFullRange && start === 0n && last === U64_MAX) {
      if (enforceLimit) {
        if (limit < 2) return 'ENOSPC';
        if (!retire && this.#nmaps > limit - 2) return 'ENOSPC';
      }
      // e2ae38cf3d91: so that size never overflows. 5.17/5.18 ignored this call's result; 6.1 returns it.
      const mid = last / 2n;
      const first = this.addRange(start, mid, addr, perm, opaque, allocFails);
      if (first !== 'ok') return first;
      addr = (addr + mid + 1n) & U64_MAX; // u64 addition wraps
      start = mid + 1n;
    }
    const full = enforceLimit ? this.#nmaps >= limit : limit !== 0 && this.#nmaps === limit && retire;
    if (full && !retire) return 'ENOSPC';
    if (full && this.#oldest !== undefined) {
      const victim = this.#oldest;
      this.#free(victim);
      this.onRetire?.(victim);
    } else if (allocFails?.()) {
      return 'ENOMEM';
    }
    const map = new MapNode(
      start,
      shareLast(last),
      shareSize(last - start + 1n),
      addr,
      perm,
      opaque,
      this.#newest,
    );
    this.#root.insert(map);
    if (this.#newest) MapNode.linkNewer(this.#newest, map);
    else this.#oldest = map;
    this.#newest = map;
    this.#nmaps++;
    return 'ok';
  }

  /**
   * vhost_iotlb_del_range: while itree_first(start, last) finds a map, free it whole (no splitting or
   * trimming). Returns the removed maps in removal order, i.e. (start, insertion) order.
   */
  delRange(start: bigint, last: bigint): IotlbMap[] {
    const removed: IotlbMap[] = [];
    for (let e = this.#root.first(start, last); e; e = this.#root.first(start, last)) {
      removed.push(e);
      this.#free(e);
    }
    return removed;
  }

  /**
   * vhost_iotlb_del_range as the kernel's returns: nothing. delRange without the array of removed maps,
   * for the callers that drop it (an UPDATE / INVALIDATE pair would otherwise make one per message).
   */
  freeRange(start: bigint, last: bigint): void {
    for (let e = this.#root.first(start, last); e; e = this.#root.first(start, last)) this.#free(e);
  }

  /**
   * vhost_iotlb_map_free: unlinks one map of this IOTLB (a caller that found it with itree_first and frees it
   * whole, as vhost_vdpa_{pa,va}_unmap do). False if the map is not (or no longer) in this IOTLB.
   */
  mapFree(map: IotlbMap): boolean {
    if (!this.#holds(map)) return false;
    this.#free(map);
    return true;
  }

  /** vhost_iotlb_itree_first: the map overlapping [start, last] with the lowest start (earliest on ties). */
  itreeFirst(start: bigint, last: bigint): IotlbMap | undefined {
    return this.#root.first(start, last);
  }

  /**
   * vhost_iotlb_itree_next: the next map after `map` overlapping [start, last]. The kernel requires `map` to
   * be live; a map that is not (or no longer) in this IOTLB yields undefined.
   */
  itreeNext(map: IotlbMap, start: bigint, last: bigint): IotlbMap | undefined {
    return this.#holds(map) ? this.#root.next(map, start, last) : undefined;
  }

  /** vhost_iotlb_reset: del_range(0, U64_MAX), which matches every map; done as one clear. */
  reset(): void {
    for (const m of this.#root.entries()) MapNode.orphan(m);
    this.#root.clear();
    this.#nmaps = 0;
    this.#oldest = this.#newest = undefined;
  }

  /** vhost_iotlb_itree_first/_next over [0, U64_MAX]: every map in (start, insertion) order (state tables) */
  maps(): IotlbMap[] {
    return Array.from(this.#root.entries());
  }

  /** (container_of) m is a live map of this IOTLB: one of ours, in our tree */
  #holds(m: IotlbMap): m is MapNode {
    return m instanceof MapNode && IntervalNode.ownerOf(m) === this.#root;
  }

  /** vhost_iotlb_map_free: unlink from the tree and the FIFO list; nmaps-- */
  #free(m: MapNode): void {
    this.#root.remove(m);
    if (this.#oldest === m) this.#oldest = MapNode.newerOf(m);
    if (this.#newest === m) this.#newest = MapNode.olderOf(m);
    MapNode.unlink(m);
    this.#nmaps--;
  }
}
