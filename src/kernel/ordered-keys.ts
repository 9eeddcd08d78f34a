// The ordered set under IntervalTree: a B+tree of keys ordered by (start, seq), start a u64 bigint and seq a
// unique number. Written for the IOTLB's one hot pattern (insert a key, find it, remove it, at 10^5–10^6
// live keys): sorted-btree, a general copy-on-write B-tree behind a comparator callback, cost ~650 ns for
// an insert + remove pair at 10^5 keys; this one compares the two fields inline and keeps leaves linked,
// so a seek is one descent and every later step along the order is O(1).
//
// Shape: leaves hold up to `max` keys, internal nodes up to `max` children with the lowest key of each
// child's subtree (`mins`). A node below `max / 4` keys (at least 2) borrows from or merges with a sibling, so the
// height stays O(log n) of the live keys, not of the most the set ever held.

export interface OrderedKey {
  readonly start: bigint;
  readonly seq: number;
  /** Number(start): rounding is monotone, so it orders keys as start does except between near neighbours
   * above 2^53, which the exact bigint then decides. Comparing doubles first matters: a bigint compare
   * costs a few ns, and a descent at 10^5 keys makes about twenty of them. */
  readonly approx: number;
}

/**
 * (start, seq) < k, with approx = Number(start). Equal doubles within ±(2^53 − 1) are equal integers (Number is
 * exact there, and rounding is monotone, so a start ≥ 2^53 never maps below 2^53): only above that does
 * the exact bigint decide, and a caller that knows its start is exactly `approx` may pass any start.
 */
function lessThan(approx: number, start: bigint, seq: number, k: OrderedKey): boolean {
  if (approx !== k.approx) return approx < k.approx;
  if (approx <= Number.MAX_SAFE_INTEGER && approx >= -Number.MAX_SAFE_INTEGER) return seq < k.seq;
  return start < k.start || (start === k.start && seq < k.seq);
}

class Leaf<K extends OrderedKey> {
  keys: K[] = [];
  parent: Inner<K> | undefined;
  prev: Leaf<K> | undefined;
  next: Leaf<K> | undefined;
}

class Inner<K extends OrderedKey> {
  children: Node<K>[] = [];
  /** mins[i]: the lowest key under children[i] */
  mins: K[] = [];
  parent: Inner<K> | undefined;
}

type Node<K extends OrderedKey> = Leaf<K> | Inner<K>;

/** A position in the order: a leaf and an index in it (index === keys.length nowhere: always normalised). */
export interface Cursor<K extends OrderedKey> {
  leaf: Leaf<K> | undefined;
  index: number;
}

export class OrderedKeys<K extends OrderedKey> {
  readonly #max: number;
  readonly #min: number;
  #root: Node<K> = new Leaf<K>();
  #size = 0;
  /**
   * The leaf the last descent ended in. Lookups come in runs at one place (an UPDATE's EEXIST check then
   * its insert; an unmap's itree_first, free, itree_first again), so #leafFor first asks whether the key
   * still falls in this leaf's range, two compares instead of a descent. Always a leaf of the tree, or
   * undefined: a merge that drops it, or clear(), forgets it.
   */
  #hint: Leaf<K> | undefined;

  /** `max`: keys per leaf and children per inner node (at least 4; small values are for tests) */
  constructor(max = 64) {
    if (max < 4) throw new RangeError('OrderedKeys: max must be at least 4');
    this.#max = max;
    // at least 2, so that every node but the root has a sibling to borrow from or merge with
    this.#min = Math.max(2, max >> 2);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds k (its (start, seq) must not be in the set). */
  add(k: K): void {
    const leaf = this.#leafFor(k.approx, k.start, k.seq);
    const i = upperBound(leaf.keys, k.approx, k.start, k.seq);
    insertAt(leaf.keys, i, k);
    this.#size++;
    if (i === 0) this.#raiseMin(leaf, k);
    if (leaf.keys.length > this.#max) this.#splitLeaf(leaf);
  }

  /** Removes k (by identity at its (start, seq)); false if it is not in the set. */
  delete(k: K): boolean {
    const leaf = this.#leafFor(k.approx, k.start, k.seq);
    const i = upperBound(leaf.keys, k.approx, k.start, k.seq) - 1;
    if (i < 0 || leaf.keys[i] !== k) return false;
    removeAt(leaf.keys, i);
    this.#size--;
    if (i === 0 && leaf.keys.length > 0) this.#raiseMin(leaf, leaf.keys[0]!);
    if (leaf.parent && leaf.keys.length < this.#min) this.#rebalance(leaf);
    return true;
  }

  /** Points c at the first key above (start, seq), or at nothing (c.leaf undefined). */
  seekAbove(start: bigint, seq: number, c: Cursor<K>): Cursor<K> {
    return this.#seek(Number(start), start, seq, c);
  }

  /**
   * seekAbove for a start given as a double that is exactly it: an integer in [0, 2^53 − 1]. For callers
   * that computed the start in doubles, which allocate nothing where bigint arithmetic would.
   */
  seekAboveSafe(start: number, seq: number, c: Cursor<K>): Cursor<K> {
    if (!(Number.isSafeInteger(start) && start >= 0)) throw new RangeError('seekAboveSafe: not a safe u64');
    // lessThan reads the bigint start only for doubles above 2^53 − 1
    return this.#seek(start, 0n, seq, c);
  }

  #seek(approx: number, start: bigint, seq: number, c: Cursor<K>): Cursor<K> {
    const leaf = this.#leafFor(approx, start, seq);
    c.leaf = leaf;
    c.index = upperBound(leaf.keys, approx, start, seq);
    return normalise(c);
  }

  /** The key under c, or undefined past the end. */
  static at<K extends OrderedKey>(c: Cursor<K>): K | undefined {
    return c.leaf?.keys[c.index];
  }

  /** Moves c one key along the order. */
  static step<K extends OrderedKey>(c: Cursor<K>): Cursor<K> {
    c.index++;
    return normalise(c);
  }

  /** Every key in order (a snapshot: mutating the set while iterating is safe). */
  keys(): K[] {
    const out: K[] = [];
    let leaf: Leaf<K> | undefined = this.#leftmost();
    for (; leaf; leaf = leaf.next) for (const k of leaf.keys) out.push(k);
    return out;
  }

  clear(): void {
    this.#root = new Leaf<K>();
    this.#size = 0;
    this.#hint = undefined;
  }

  /** (tests) checks every structural rule; returns the first broken one, or undefined */
  check(): string | undefined {
    let count = 0;
    let prev: K | undefined;
    let leafPrev: Leaf<K> | undefined;
    let leafDepth = -1;
    let hintFound = false;
    const walk = (n: Node<K>, depth: number, lo: K | undefined): string | undefined => {
      if (n !== this.#root && sizeOf(n) < this.#min) return `node below min at depth ${depth}`;
      if (sizeOf(n) > this.#max) return `node above max at depth ${depth}`;
      if (n instanceof Leaf) {
        if (leafDepth === -1) leafDepth = depth;
        else if (leafDepth !== depth) return 'leaves at different depths';
        if (n.prev !== leafPrev) return 'broken leaf links';
        if (leafPrev && leafPrev.next !== n) return 'broken leaf links';
        leafPrev = n;
        if (n === this.#hint) hintFound = true;
        if (lo !== undefined && n.keys[0] !== lo) return 'parent min is not the leaf min';
        for (const k of n.keys) {
          if (k.approx !== Number(k.start)) return 'approx is not Number(start)';
          if (prev && !lessThan(prev.approx, prev.start, prev.seq, k)) return 'keys out of order';
          prev = k;
          count++;
        }
        return undefined;
      }
      if (n.children.length !== n.mins.length) return 'mins and children differ in length';
      if (lo !== undefined && n.mins[0] !== lo) return 'parent min is not the inner min';
      for (let i = 0; i < n.children.length; i++) {
        const c: Node<K> = n.children[i]!;
        if (c.parent !== n) return 'broken parent link';
        const r = walk(c, depth + 1, n.mins[i]);
        if (r) return r;
      }
      return undefined;
    };
    const r = walk(this.#root, 0, undefined);
    if (r) return r;
    if (leafPrev?.next !== undefined) return 'last leaf has a next';
    if (this.#hint !== undefined && !hintFound) return 'hint is not a leaf of the tree';
    return count === this.#size ? undefined : `size ${this.#size} but ${count} keys`;
  }

  #leftmost(): Leaf<K> {
    let n = this.#root;
    while (n instanceof Inner) n = n.children[0]!;
    return n;
  }

  /**
   * the leaf whose range holds (start, seq): the last child whose min is <= it, at each level. Since every
   * parent min is its child's first key, that is the last leaf whose first key is <= (start, seq), or the
   * first leaf if there is none; the hint is that leaf when (start, seq) lies between its first key (or it
   * is the first leaf) and the next leaf's first key.
   */
  #leafFor(approx: number, start: bigint, seq: number): Leaf<K> {
    const h = this.#hint;
    if (
      h !== undefined &&
      (h.prev === undefined || !lessThan(approx, start, seq, h.keys[0]!)) &&
      (h.next === undefined || lessThan(approx, start, seq, h.next.keys[0]!))
    )
      return h;
    let n = this.#root;
    while (n instanceof Inner) {
      const i = upperBound(n.mins, approx, start, seq) - 1;
      n = n.children[Math.max(0, i)]!;
    }
    this.#hint = n;
    return n;
  }

  /** a node's lowest key changed to k: every ancestor for which it is the first child learns it */
  #raiseMin(n: Node<K>, k: K): void {
    for (let p = n.parent; p; n = p, p = p.parent) {
      const i = p.children.indexOf(n);
      p.mins[i] = k;
      if (i !== 0) return;
    }
  }

  #splitLeaf(leaf: Leaf<K>): void {
    const right = new Leaf<K>();
    right.keys = leaf.keys.splice(leaf.keys.length >> 1);
    right.next = leaf.next;
    if (right.next) right.next.prev = right;
    right.prev = leaf;
    leaf.next = right;
    this.#insertSibling(leaf, right, right.keys[0]!);
  }

  #splitInner(n: Inner<K>): void {
    const right = new Inner<K>();
    const half = n.children.length >> 1;
    right.children = n.children.splice(half);
    right.mins = n.mins.splice(half);
    for (const c of right.children) c.parent = right;
    this.#insertSibling(n, right, right.mins[0]!);
  }

  /** puts `right` after `left` in left's parent (a new root if left was the root) */
  #insertSibling(left: Node<K>, right: Node<K>, rightMin: K): void {
    const p = left.parent;
    if (!p) {
      const root = new Inner<K>();
      root.children = [left, right];
      root.mins = [minOf(left), rightMin];
      left.parent = right.parent = root;
      this.#root = root;
      return;
    }
    const i = p.children.indexOf(left) + 1;
    p.children.splice(i, 0, right);
    p.mins.splice(i, 0, rightMin);
    right.parent = p;
    if (p.children.length > this.#max) this.#splitInner(p);
  }

  /** n fell below min: borrow from a sibling that can spare, else merge with one; then fix the parent */
  #rebalance(n: Node<K>): void {
    const p = n.parent!;
    const i = p.children.indexOf(n);
    const left = i > 0 ? p.children[i - 1] : undefined;
    const right = i + 1 < p.children.length ? p.children[i + 1] : undefined;
    if (left && sizeOf(left) > this.#min) {
      moveLastToFront(left, n);
      p.mins[i] = minOf(n);
      if (i === 0) this.#raiseMin(p, p.mins[0]!);
      return;
    }
    if (right && sizeOf(right) > this.#min) {
      moveFirstToBack(right, n);
      p.mins[i + 1] = minOf(right);
      if (sizeOf(n) === 1) {
        p.mins[i] = minOf(n);
        if (i === 0) this.#raiseMin(p, p.mins[0]!);
      }
      return;
    }
    // merge the right one of the pair into the left one
    const [a, b, bi] = left ? [left, n, i] : [n, right!, i + 1];
    mergeInto(a, b);
    if (b === this.#hint) this.#hint = undefined;
    p.children.splice(bi, 1);
    p.mins.splice(bi, 1);
    if (bi - 1 === 0 || sizeOf(a) > 0) p.mins[bi - 1] = minOf(a);
    if (bi - 1 === 0) this.#raiseMin(p, p.mins[0]!);
    if (p === this.#root) {
      if (p.children.length === 1) {
        this.#root = p.children[0]!;
        this.#root.parent = undefined;
      }
      return;
    }
    if (p.children.length < this.#min) this.#rebalance(p);
  }
}

function sizeOf<K extends OrderedKey>(n: Node<K>): number {
  return n instanceof Leaf ? n.keys.length : n.children.length;
}

function minOf<K extends OrderedKey>(n: Node<K>): K {
  return (n instanceof Leaf ? n.keys[0] : n.mins[0])!;
}

/** the first index whose key is above (start, seq) */
function upperBound<K extends OrderedKey>(
  a: readonly K[],
  approx: number,
  start: bigint,
  seq: number,
): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lessThan(approx, start, seq, a[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// Array.prototype.splice returns the removed elements, a new array even when none are: on the hot insert /
// remove pair that was one allocation per operation. These shift in place.

/** a.splice(i, 0, x) without the result array */
function insertAt<T>(a: T[], i: number, x: T): void {
  let j = a.length;
  a.push(x);
  for (; j > i; j--) a[j] = a[j - 1]!;
  a[i] = x;
}

/** a.splice(i, 1) without the result array */
function removeAt<T>(a: T[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1]!;
  a.pop();
}

function normalise<K extends OrderedKey>(c: Cursor<K>): Cursor<K> {
  while (c.leaf && c.index >= c.leaf.keys.length) {
    c.leaf = c.leaf.next;
    c.index = 0;
  }
  return c;
}

function moveLastToFront<K extends OrderedKey>(from: Node<K>, to: Node<K>): void {
  if (from instanceof Leaf && to instanceof Leaf) {
    to.keys.unshift(from.keys.pop()!);
  } else if (from instanceof Inner && to instanceof Inner) {
    const c = from.children.pop()!;
    to.children.unshift(c);
    to.mins.unshift(from.mins.pop()!);
    c.parent = to;
  }
}

function moveFirstToBack<K extends OrderedKey>(from: Node<K>, to: Node<K>): void {
  if (from instanceof Leaf && to instanceof Leaf) {
    to.keys.push(from.keys.shift()!);
  } else if (from instanceof Inner && to instanceof Inner) {
    const c = from.children.shift()!;
    to.children.push(c);
    to.mins.push(from.mins.shift()!);
    c.parent = to;
  }
}

/** b's contents appended to a (b is a's right sibling); leaf links skip b */
function mergeInto<K extends OrderedKey>(a: Node<K>, b: Node<K>): void {
  if (a instanceof Leaf && b instanceof Leaf) {
    for (const k of b.keys) a.keys.push(k);
    a.next = b.next;
    if (a.next) a.next.prev = a;
  } else if (a instanceof Inner && b instanceof Inner) {
    for (const c of b.children) {
      a.children.push(c);
      c.parent = a;
    }
    for (const m of b.mins) a.mins.push(m);
  }
}
