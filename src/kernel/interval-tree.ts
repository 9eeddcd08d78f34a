// include/linux/interval_tree_generic.h (INTERVAL_TREE_DEFINE) on a B+tree (./ordered-keys.ts) instead of
// an augmented rb-tree. The kernel orders nodes by start and inserts an equal start to the right of the existing ones,
// so iteration is (start, insertion order); here that order is the B-tree key (start, seq).
//
// Leftmost-overlap query without the rb-tree's __subtree_last augmentation: an entry E overlaps [s, l] iff
// E.start <= l && s <= E.last. Since E.last = E.start + span(E) <= E.start + maxSpan, an overlapping entry
// has E.start >= s - maxSpan, so only keys in [s - maxSpan, l] need to be looked at. maxSpan is the maximum
// of the multiset of live spans, kept in a second B-tree, so it is exact at every moment (it shrinks again
// when the widest entry is removed): the window is never too narrow (no overlap is missed) and never wider
// than the widest live entry requires. It also works for an inverted query (l < s): if s - maxSpan > l the
// window is empty, and rightly so, since then every entry with E.start <= l ends before s. Each step is
// O(log n); a query costs O(log n + k), k being the number of entries whose start lies inside the window,
// never a walk over the whole set.
import sortedBtree from 'sorted-btree';
import { type Cursor, OrderedKeys } from './ordered-keys.js';

// sorted-btree is CJS with `exports.default = BTree`. Node's ESM loader, esbuild (type: module) and tsc
// (nodenext) all make the default import the whole module.exports object, so the class is its `.default`;
// vitest's CJS interop instead hands over the class itself. Accept both.
type BTreeCtor = typeof sortedBtree.default;
type BTree<K, V> = sortedBtree.default<K, V>;
const BTree: BTreeCtor =
  (sortedBtree as { default?: BTreeCtor }).default ?? (sortedBtree as unknown as BTreeCtor);

// interval_tree_insert's descent: `start < parent.start` goes left, anything else right, so an equal start
// lands after the existing ones; OrderedKeys' (start, seq) order, seq counting insertions, reproduces that.

/**
 * Number(x) through a one-entry memo: Number of a bigint is a runtime call, and one IOTLB message asks it of
 * the same start up to seven times (itree_first and insert, in vhost's tree and the device's).
 */
let memoBig = -1n;
let memoNumber = -1;
function approxOf(x: bigint): number {
  if (x !== memoBig) {
    memoNumber = Number(x);
    memoBig = x;
  }
  return memoNumber;
}

/**
 * A one-entry interner: x, or the equal bigint it was given just before. The entries of a table mostly
 * share one span, size and last distance (pages), so nodes keep one bigint object between them instead
 * of 24 bytes each (and the fresh one dies young).
 */
export function bigintSharer(): (x: bigint) => bigint {
  let last = -1n;
  return (x) => {
    if (x === last) return last;
    last = x;
    return x;
  };
}

const shareSpan = bigintSharer();

/**
 * What INTERVAL_TREE_DEFINE expects embedded in the caller's struct (rb, start, last, __subtree_last): the
 * caller's node class extends this one, so an entry is one object (struct vhost_iotlb_map embeds its rb
 * node the same way). Only start and last are own public fields; the tree's bookkeeping is private, so it
 * shows in no Object.keys, toEqual or JSON of the caller's node.
 */
export class IntervalNode {
  /** the tree holding this node (RB_EMPTY_NODE when undefined) */
  #owner: object | undefined;
  /** insertion number, unique within one tree: breaks ties between equal starts (later goes right) */
  #seq = -1;
  /** last − start, computed once (bigint arithmetic allocates) */
  readonly #span: bigint;
  /** OrderedKeys' double ordering key */
  readonly #approx: number;

  constructor(
    readonly start: bigint,
    readonly last: bigint,
  ) {
    this.#span = shareSpan(last - start);
    this.#approx = approxOf(start);
  }

  /** OrderedKey.seq: the insertion number the tree gave this node (−1 before any insert) */
  get seq(): number {
    return this.#seq;
  }

  /** OrderedKey.approx: Number(start) */
  get approx(): number {
    return this.#approx;
  }

  /** (no kernel counterpart) the span the augmentation bookkeeping counts n under */
  static spanOf(n: IntervalNode): bigint {
    return n.#span;
  }

  /** (RB_EMPTY_NODE, per tree) the tree n belongs to: undefined once removed */
  static ownerOf(n: IntervalNode): object | undefined {
    return n.#owner;
  }

  /** interval_tree_insert's rb_link_node: n now belongs to `owner` at insertion number seq */
  static attach(n: IntervalNode, owner: object, seq: number): void {
    n.#owner = owner;
    n.#seq = seq;
  }

  /** (RB_CLEAR_NODE) mark n as in no tree; its seq stays, so next() can still start from its position */
  static release(n: IntervalNode): void {
    n.#owner = undefined;
  }
}

export class IntervalTree<N extends IntervalNode> {
  /** the entries themselves as keys, ordered by (start, seq) */
  readonly #byStart = new OrderedKeys<N>();
  /**
   * multiset of spans (last − start) → how many live entries have it. One span may sit at count 0 (#idle):
   * deleting and re-adding its B-tree key on every remove/insert pair (the IOTLB's add/del of one page) would
   * otherwise dominate. #windowStart skips the idle span, so the maximum stays exact.
   */
  readonly #spans: BTree<bigint, { n: number }> = new BTree<bigint, { n: number }>();
  #idle: bigint | undefined;
  /** one-entry cache of #spans.get: IOTLBs mostly hold maps of one size (pages) */
  #cachedSpan = -1n;
  #cachedCount: { n: number } | undefined;
  /** the widest live span, or undefined when it must be looked up again (its last entry went) */
  #maxSpan: bigint | undefined;
  /** Number(#maxSpan), kept with it (meaningful only while #maxSpan is defined) */
  #maxSpanNumber = 0;
  #seq = 0;
  /** reused search position */
  readonly #cursor: Cursor<N> = { leaf: undefined, index: 0 };

  /** (the kernel keeps no count; vhost_iotlb has nmaps) the number of entries */
  get size(): number {
    return this.#byStart.size;
  }

  /**
   * interval_tree_insert: n goes after every entry with the same start. n must be in no tree (a node is
   * linked into one tree at a time, as an rb_node is); returns n.
   */
  insert(n: N): N {
    if (IntervalNode.ownerOf(n) !== undefined)
      throw new Error('IntervalTree.insert: node is already in a tree');
    IntervalNode.attach(n, this, this.#seq++);
    this.#byStart.add(n);
    const span = IntervalNode.spanOf(n);
    const count = this.#spanCount(span);
    if (count === undefined) this.#spans.set(span, (this.#cachedCount = { n: 1 }));
    else if (count.n++ === 0) this.#idle = undefined;
    if (this.#maxSpan !== undefined && span > this.#maxSpan) this.#setMaxSpan(span);
    return n;
  }

  /** interval_tree_remove: false (and no change) if e is not currently an entry of this tree. */
  remove(e: N): boolean {
    if (IntervalNode.ownerOf(e) !== this) return false;
    IntervalNode.release(e);
    this.#byStart.delete(e);
    const span = IntervalNode.spanOf(e);
    const count = this.#spanCount(span)!;
    if (--count.n === 0) {
      if (this.#idle !== undefined) this.#dropSpan(this.#idle);
      this.#idle = span;
      if (span === this.#maxSpan) this.#maxSpan = undefined;
    }
    return true;
  }

  /**
   * interval_tree_iter_first (itree_first): the overlapping entry [E.start <= last && start <= E.last] with
   * the lowest (start, seq). Works for an inverted query (last < start) exactly as that formula says: it then
   * matches only entries spanning both last and start.
   */
  first(start: bigint, last: bigint): N | undefined {
    if (this.#byStart.size === 0) return undefined;
    const maxSpan = this.#liveMaxSpan();
    // the window's start in doubles when start and maxSpan are both exact there (below 2^53): the same
    // value #windowStart computes, without allocating a bigint on every lookup
    const s = approxOf(start);
    const m = this.#maxSpanNumber;
    if (s <= Number.MAX_SAFE_INTEGER && m <= Number.MAX_SAFE_INTEGER) {
      const c = this.#byStart.seekAboveSafe(s > m ? s - m : 0, -1, this.#cursor);
      return this.#scanFrom(c, start, last);
    }
    return this.#scan(start > maxSpan ? start - maxSpan : 0n, -1, start, last);
  }

  /**
   * interval_tree_iter_next (itree_next): the next overlapping entry after e in (start, seq) order. The
   * kernel requires e to be in the tree; here a removed e still works, by its (start, seq) position.
   */
  next(e: N, start: bigint, last: bigint): N | undefined {
    if (this.#byStart.size === 0) return undefined;
    const from = this.#windowStart(start);
    return e.start >= from ? this.#scan(e.start, e.seq, start, last) : this.#scan(from, -1, start, last);
  }

  /**
   * in-order walk (rb_first / rb_next): all entries in (start, seq) order. Each step re-seeks from the last
   * entry yielded, so removing entries (including the current one) while iterating is safe.
   */
  *entries(): IterableIterator<N> {
    const c: Cursor<N> = { leaf: undefined, index: 0 };
    for (let k = OrderedKeys.at(this.#byStart.seekAbove(-1n, 0, c)); k; ) {
      yield k;
      k = OrderedKeys.at(this.#byStart.seekAbove(k.start, k.seq, c));
    }
  }

  /** drops every entry (RB_ROOT_CACHED); seq keeps counting so stale entries never alias new ones. */
  clear(): void {
    for (const k of this.#byStart.keys()) IntervalNode.release(k);
    this.#byStart.clear();
    this.#spans.clear();
    this.#idle = this.#cachedCount = this.#maxSpan = undefined;
  }

  /** (no kernel counterpart: the augmentation's bookkeeping) #spans.get through the one-entry cache */
  #spanCount(span: bigint): { n: number } | undefined {
    if (span !== this.#cachedSpan || this.#cachedCount === undefined) {
      this.#cachedCount = this.#spans.get(span);
      this.#cachedSpan = span;
    }
    return this.#cachedCount;
  }

  /** (no kernel counterpart) #spans.delete, keeping the cache honest */
  #dropSpan(span: bigint): void {
    this.#spans.delete(span);
    if (span === this.#cachedSpan) this.#cachedCount = undefined;
  }

  /**
   * (replaces the __subtree_last pruning of interval_tree_subtree_search) the lowest start an entry
   * overlapping [start, …] can have: start − maxSpan, floored at 0. Only called on a non-empty tree, so a
   * live span exists; the idle span (count 0) is skipped.
   */
  #windowStart(start: bigint): bigint {
    const maxSpan = this.#liveMaxSpan();
    return start > maxSpan ? start - maxSpan : 0n;
  }

  /** (no kernel counterpart) the widest live span, looked up again if its last entry went */
  #liveMaxSpan(): bigint {
    let maxSpan = this.#maxSpan;
    if (maxSpan === undefined) {
      maxSpan = this.#spans.maxKey()!;
      if (maxSpan === this.#idle) maxSpan = this.#spans.nextLowerKey(maxSpan)!;
      this.#setMaxSpan(maxSpan);
    }
    return maxSpan;
  }

  #setMaxSpan(span: bigint): void {
    this.#maxSpan = span;
    this.#maxSpanNumber = Number(span);
  }

  /**
   * interval_tree_subtree_search's in-order test: the first entry with a key above (from, seq) and
   * E.start <= last && start <= E.last, giving up at the first E.start > last.
   */
  #scan(from: bigint, seq: number, start: bigint, last: bigint): N | undefined {
    return this.#scanFrom(this.#byStart.seekAbove(from, seq, this.#cursor), start, last);
  }

  /** #scan from a cursor already at its first candidate */
  #scanFrom(c: Cursor<N>, start: bigint, last: bigint): N | undefined {
    for (let e = OrderedKeys.at(c); e; e = OrderedKeys.at(OrderedKeys.step(c))) {
      if (e.start > last) return undefined;
      if (start <= e.last) return e;
    }
    return undefined;
  }
}
