import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { IntervalNode, IntervalTree } from '../../src/kernel/interval-tree.js';

const U64_MAX = (1n << 64n) - 1n;
const HALF = 1n << 63n;

/** a caller's node embedding the tree's (as struct vhost_iotlb_map does), carrying a value */
class Entry<T> extends IntervalNode {
  constructor(
    start: bigint,
    last: bigint,
    readonly value: T,
  ) {
    super(start, last);
  }
}

/** interval_tree_insert of a new node made of (start, last, value) */
const put = <T>(t: IntervalTree<Entry<T>>, start: bigint, last: bigint, value: T): Entry<T> =>
  t.insert(new Entry(start, last, value));

const ids = (es: Iterable<Entry<string> | undefined>) => Array.from(es, (e) => e?.value);

/** every entry overlapping [s, l] via first/next, as the kernel's for-each-overlap loop walks them */
function walk<T>(t: IntervalTree<Entry<T>>, s: bigint, l: bigint): Entry<T>[] {
  const out: Entry<T>[] = [];
  for (let e = t.first(s, l); e; e = t.next(e, s, l)) {
    out.push(e);
    if (out.length > t.size) throw new Error('itree_next does not advance');
  }
  return out;
}

describe('interval_tree_iter_first / interval_tree_iter_next (include/linux/interval_tree_generic.h)', () => {
  test('itree_first: overlap is E.start <= last && start <= E.last, inclusive at both ends', () => {
    const t = new IntervalTree<Entry<string>>();
    put(t, 0x1000n, 0x1fffn, 'a');
    put(t, 0x3000n, 0x3fffn, 'b');
    expect(t.first(0x1fffn, 0x1fffn)?.value).toBe('a');
    expect(t.first(0x2000n, 0x2fffn)).toBeUndefined();
    expect(t.first(0x2000n, 0x3000n)?.value).toBe('b');
    expect(t.first(0x0n, 0xfffn)).toBeUndefined();
    expect(t.first(0n, U64_MAX)?.value).toBe('a');
  });

  test('itree_first: the lowest start wins, not the first inserted', () => {
    const t = new IntervalTree<Entry<string>>();
    put(t, 0x5000n, 0x5fffn, 'high');
    put(t, 0x0n, 0xffffn, 'wide');
    expect(t.first(0x5000n, 0x5000n)?.value).toBe('wide');
    expect(ids(walk(t, 0x5000n, 0x5000n))).toEqual(['wide', 'high']);
  });

  test('equal starts iterate in insertion order (rb-tree inserts equal keys to the right)', () => {
    const t = new IntervalTree<Entry<string>>();
    put(t, 0x1000n, 0x1fffn, 'first');
    put(t, 0x1000n, 0x10ffn, 'second');
    put(t, 0x1000n, 0xffffn, 'third');
    put(t, 0x0n, 0x0n, 'zero');
    expect(ids(t.entries())).toEqual(['zero', 'first', 'second', 'third']);
    expect(ids(walk(t, 0x1000n, 0x1000n))).toEqual(['first', 'second', 'third']);
    expect(ids(walk(t, 0x1800n, 0x1800n))).toEqual(['first', 'third']);
  });

  test('an inverted query (last < start) matches only entries spanning both ends', () => {
    const t = new IntervalTree<Entry<string>>();
    put(t, 0x1000n, 0x1fffn, 'spans');
    put(t, 0x2000n, 0x2fffn, 'starts-at-iova');
    put(t, 0x0n, 0x1000n, 'ends-below');
    // size-0 INVALIDATE of iova 0x1800: start = 0x1800, last = 0x17ff
    expect(ids(walk(t, 0x1800n, 0x17ffn))).toEqual(['spans']);
    // iova 0x2000, last 0x1fff: nothing holds both 0x1fff and 0x2000
    expect(t.first(0x2000n, 0x1fffn)).toBeUndefined();
    // far apart: only an entry covering [last, start] matches
    put(t, 0x0n, U64_MAX, 'all');
    expect(ids(walk(t, 0x9000n, 0x10n))).toEqual(['all']);
    expect(ids(walk(t, U64_MAX, 0n))).toEqual(['all']);
  });

  test('itree_next continues after e, even past non-matching entries with equal start', () => {
    const t = new IntervalTree<Entry<string>>();
    const a = put(t, 0x1000n, 0x1fffn, 'a');
    put(t, 0x1000n, 0x1000n, 'short');
    put(t, 0x1000n, 0x1fffn, 'c');
    expect(t.next(a, 0x1800n, 0x1800n)?.value).toBe('c');
    expect(t.next(a, 0x3000n, 0x4000n)).toBeUndefined();
  });

  test('removing the widest entry narrows the window but still finds every overlap', () => {
    const t = new IntervalTree<Entry<string>>();
    const wide = put(t, 0n, U64_MAX - 1n, 'wide');
    put(t, 0x10n, 0x1fn, 'x');
    put(t, U64_MAX, U64_MAX, 'top');
    expect(ids(walk(t, 0x18n, 0x18n))).toEqual(['wide', 'x']);
    expect(t.remove(wide)).toBe(true);
    expect(t.remove(wide)).toBe(false);
    expect(ids(walk(t, 0x18n, 0x18n))).toEqual(['x']);
    expect(ids(walk(t, U64_MAX, U64_MAX))).toEqual(['top']);
    expect(t.first(0x20n, U64_MAX - 1n)).toBeUndefined();
    expect(t.size).toBe(2);
  });

  test('u64 bounds: entries at 2^63 and 2^64−1 are exact', () => {
    const t = new IntervalTree<Entry<string>>();
    put(t, 0n, HALF - 1n, 'low');
    put(t, HALF, U64_MAX, 'high');
    expect(ids(walk(t, HALF - 1n, HALF))).toEqual(['low', 'high']);
    expect(t.first(HALF, HALF)?.value).toBe('high');
    expect(t.first(U64_MAX, U64_MAX)?.value).toBe('high');
    expect(t.first(HALF - 1n, HALF - 1n)?.value).toBe('low');
  });

  test('a node is in one tree at a time; its bookkeeping is private to the tree', () => {
    const t = new IntervalTree<Entry<string>>();
    const u = new IntervalTree<Entry<string>>();
    const e = new Entry(1n, 2n, 'e');
    expect(t.remove(e)).toBe(false); // never inserted
    t.insert(e);
    expect(() => u.insert(e)).toThrow(/already in a tree/);
    expect(() => t.insert(e)).toThrow(/already in a tree/);
    expect(Object.keys(e)).toEqual(['start', 'last', 'value']);
    expect(e).toEqual({ start: 1n, last: 2n, value: 'e' });
    expect(t.remove(e)).toBe(true);
    u.insert(e); // removed: free to go elsewhere, after u's own entries
    expect(u.first(1n, 1n)).toBe(e);
  });

  test('first() is exact either side of 2^53, where its window stops being computed in doubles', () => {
    const TWO53 = 1n << 53n;
    const t = new IntervalTree<Entry<string>>();
    put(t, TWO53 - 2n, TWO53 - 1n, 'below');
    put(t, TWO53, TWO53 + 1n, 'at');
    put(t, TWO53 + 1n, TWO53 + 1n, 'above');
    expect(t.first(TWO53 - 1n, TWO53 - 1n)?.value).toBe('below');
    expect(t.first(TWO53, TWO53)?.value).toBe('at');
    expect(ids(walk(t, TWO53 + 1n, TWO53 + 1n))).toEqual(['at', 'above']);
    expect(t.first(TWO53 + 2n, U64_MAX)).toBeUndefined();
    // a span of 2^53 or more: the window's start is a bigint even for a small query start
    put(t, 0n, TWO53, 'wide');
    expect(ids(walk(t, 5n, 5n))).toEqual(['wide']);
    expect(ids(walk(t, TWO53, TWO53))).toEqual(['wide', 'at']);
  });

  test('remove refuses an entry of another tree with the same (start, seq)', () => {
    const t = new IntervalTree<Entry<string>>();
    const u = new IntervalTree<Entry<string>>();
    put(t, 1n, 2n, 't');
    const foreign = put(u, 1n, 2n, 'u');
    expect(t.remove(foreign)).toBe(false);
    expect(t.size).toBe(1);
  });

  test('entries() tolerates removing the current entry while iterating; clear() empties', () => {
    const t = new IntervalTree<Entry<string>>();
    for (const [i, s] of [3n, 1n, 2n, 1n].entries()) put(t, s, s + 1n, `e${i}`);
    const seen: string[] = [];
    for (const e of t.entries()) {
      seen.push(e.value);
      t.remove(e);
    }
    expect(seen).toEqual(['e1', 'e3', 'e2', 'e0']);
    expect(t.size).toBe(0);
    put(t, 5n, 6n, 'x');
    t.clear();
    expect(t.size).toBe(0);
    expect(t.first(0n, U64_MAX)).toBeUndefined();
    expect(ids(t.entries())).toEqual([]);
  });
});

// Model check against a naive array (style guide A7.9, B6).
interface Model {
  live: Entry<number>[];
  nextValue: number;
}
interface Real {
  tree: IntervalTree<Entry<number>>;
}

const byStartSeq = (a: Entry<number>, b: Entry<number>) =>
  a.start < b.start ? -1 : a.start > b.start ? 1 : a.seq - b.seq;
const overlaps = (e: Entry<number>, s: bigint, l: bigint) => e.start <= l && s <= e.last;
const modelWalk = (m: Model, s: bigint, l: bigint) =>
  m.live.filter((e) => overlaps(e, s, l)).sort(byStartSeq);

// Clustered values so that overlaps, equal starts and the u64 edges all occur often.
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 40n }),
  fc.bigInt({ min: HALF - 20n, max: HALF + 20n }),
  // where first()'s window leaves doubles for bigints: starts and spans either side of 2^53
  fc.bigInt({ min: (1n << 53n) - 20n, max: (1n << 53n) + 20n }),
  fc.bigInt({ min: U64_MAX - 40n, max: U64_MAX }),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
const range = fc.tuple(u64, u64).map(([a, b]): readonly [bigint, bigint] => (a <= b ? [a, b] : [b, a]));
const query = fc.tuple(u64, u64); // possibly inverted

class InsertCmd implements fc.Command<Model, Real> {
  constructor(readonly r: readonly [bigint, bigint]) {}
  check = () => true;
  run(m: Model, real: Real): void {
    const v = m.nextValue++;
    const e = put(real.tree, this.r[0], this.r[1], v);
    expect([e.start, e.last, e.value]).toEqual([this.r[0], this.r[1], v]);
    m.live.push(e);
    expect(real.tree.size).toBe(m.live.length);
  }
  toString = () => `insert(${this.r[0]}, ${this.r[1]})`;
}

class RemoveCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, real: Real): void {
    const i = this.pick % m.live.length;
    const [e] = m.live.splice(i, 1);
    expect(real.tree.remove(e!)).toBe(true);
    expect(real.tree.remove(e!)).toBe(false);
    expect(real.tree.size).toBe(m.live.length);
  }
  toString = () => `remove(#${this.pick})`;
}

class FirstCmd implements fc.Command<Model, Real> {
  constructor(readonly q: readonly [bigint, bigint]) {}
  check = () => true;
  run(m: Model, real: Real): void {
    const [s, l] = this.q;
    expect(real.tree.first(s, l)).toBe(modelWalk(m, s, l)[0]);
    expect(walk(real.tree, s, l)).toEqual(modelWalk(m, s, l));
  }
  toString = () => `first(${this.q[0]}, ${this.q[1]})`;
}

class NextCmd implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly q: readonly [bigint, bigint],
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, real: Real): void {
    const [s, l] = this.q;
    const e = m.live[this.pick % m.live.length]!;
    const want = m.live.filter((x) => byStartSeq(x, e) > 0 && overlaps(x, s, l)).sort(byStartSeq)[0];
    expect(real.tree.next(e, s, l)).toBe(want);
  }
  toString = () => `next(#${this.pick}, ${this.q[0]}, ${this.q[1]})`;
}

class EntriesCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, real: Real): void {
    expect([...real.tree.entries()]).toEqual([...m.live].sort(byStartSeq));
  }
  toString = () => 'entries()';
}

const commands = fc.commands(
  [
    range.map((r) => new InsertCmd(r)),
    range.map((r) => new InsertCmd(r)),
    fc.nat().map((i) => new RemoveCmd(i)),
    query.map((q) => new FirstCmd(q)),
    fc.tuple(fc.nat(), query).map(([i, q]) => new NextCmd(i, q)),
    fc.constant(new EntriesCmd()),
  ],
  { maxCommands: 120, size: 'max' },
);

describe('IntervalTree model check', () => {
  test.prop([commands], { numRuns: 300 })('insert/remove/first/next/entries match a naive array', (cmds) => {
    fc.modelRun(
      () => ({ model: { live: [], nextValue: 0 }, real: { tree: new IntervalTree<Entry<number>>() } }),
      cmds,
    );
  });
});
