import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type Cursor, type OrderedKey, OrderedKeys } from '../../src/kernel/ordered-keys.js';

// The B+tree under IntervalTree, checked against a sorted array with tiny nodes (max 4: every split, borrow,
// merge and root collapse happens within a few dozen operations) and with the default size.

const U64_MAX = (1n << 64n) - 1n;
const TWO53 = 1n << 53n;

interface K extends OrderedKey {
  readonly id: number;
}

const key = (start: bigint, seq: number): K => ({ start, seq, approx: Number(start), id: seq });
const before = (a: K, b: K) => a.start < b.start || (a.start === b.start && a.seq < b.seq);

/** the model's answer to seekAbove: the first key above (start, seq) */
const modelAbove = (m: K[], start: bigint, seq: number) =>
  m.find((k) => k.start > start || (k.start === start && k.seq > seq));

// starts that collide often, including neighbours above 2^53 whose doubles are equal
const start = fc.oneof(
  fc.bigInt({ min: 0n, max: 12n }),
  fc.bigInt({ min: TWO53 - 3n, max: TWO53 + 6n }),
  fc.bigInt({ min: U64_MAX - 6n, max: U64_MAX }),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);

type Op = { add: bigint } | { del: number } | { seek: [bigint, number] };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: start.map((s) => ({ add: s })) },
  { weight: 4, arbitrary: fc.nat().map((i) => ({ del: i })) },
  { weight: 2, arbitrary: fc.tuple(start, fc.integer({ min: -1, max: 400 })).map((q) => ({ seek: q })) },
);

function replay(max: number, ops: Op[]): void {
  const t = new OrderedKeys<K>(max);
  const model: K[] = [];
  const c: Cursor<K> = { leaf: undefined, index: 0 };
  let seq = 0;
  for (const o of ops) {
    if ('add' in o) {
      const k = key(o.add, seq++);
      t.add(k);
      const at = model.findIndex((m) => before(k, m));
      model.splice(at < 0 ? model.length : at, 0, k);
    } else if ('del' in o) {
      if (model.length === 0) {
        expect(t.delete(key(0n, -5))).toBe(false);
        continue;
      }
      const [k] = model.splice(o.del % model.length, 1);
      expect(t.delete(k!)).toBe(true);
      expect(t.delete(k!)).toBe(false); // gone: a second delete finds nothing
    } else {
      const [s, q] = o.seek;
      expect(OrderedKeys.at(t.seekAbove(s, q, c))?.id).toBe(modelAbove(model, s, q)?.id);
      // the double-only seek, wherever a double holds the start exactly
      if (s < TWO53)
        expect(OrderedKeys.at(t.seekAboveSafe(Number(s), q, c))?.id).toBe(modelAbove(model, s, q)?.id);
    }
    expect(t.check()).toBeUndefined();
    expect(t.size).toBe(model.length);
  }
  expect(t.keys().map((k) => k.id)).toEqual(model.map((k) => k.id));
  // walking with step from the start visits every key once, in order
  const walked: number[] = [];
  for (let k = OrderedKeys.at(t.seekAbove(-1n, 0, c)); k; k = OrderedKeys.at(OrderedKeys.step(c)))
    walked.push(k.id);
  expect(walked).toEqual(model.map((k) => k.id));
}

describe('OrderedKeys: a B+tree ordered by (start, seq)', () => {
  test.prop([fc.array(op, { maxLength: 300 })], { numRuns: 200 })('max 4 agrees with a sorted array', (ops) =>
    replay(4, ops),
  );
  test.prop([fc.array(op, { maxLength: 300 })], { numRuns: 50 })('max 64 agrees with a sorted array', (ops) =>
    replay(64, ops),
  );

  // fill, then drain in random order: every level's nodes underflow, borrow, merge and the root collapses
  const fillDrain = fc
    .tuple(fc.array(start, { minLength: 50, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 400 }))
    .map(([adds, dels]): Op[] => [...adds.map((a) => ({ add: a })), ...dels.map((d) => ({ del: d }))]);
  test.prop([fillDrain], { numRuns: 60 })('max 4, fill then drain, agrees with a sorted array', (ops) =>
    replay(4, ops),
  );

  test('grows to many levels and shrinks back to one leaf (max 4, 2000 keys)', () => {
    const t = new OrderedKeys<K>(4);
    const ks = Array.from({ length: 2000 }, (_, i) => key(BigInt((i * 7919) % 2000), i));
    for (const k of ks) t.add(k);
    expect(t.check()).toBeUndefined();
    expect(t.keys().map((k) => k.start)).toEqual(
      [...ks].sort((a, b) => (before(a, b) ? -1 : 1)).map((k) => k.start),
    );
    for (const k of ks.slice(0, 1999)) expect(t.delete(k)).toBe(true);
    expect(t.check()).toBeUndefined();
    expect(t.keys()).toEqual([ks[1999]]);
  });

  test('neighbours above 2^53 share a double but keep their exact order', () => {
    const t = new OrderedKeys<K>(4);
    const a = key(TWO53 + 1n, 0);
    const b = key(TWO53, 1);
    const c = key(TWO53 + 2n, 2);
    expect(a.approx).toBe(b.approx); // the case the bigint tie-break exists for
    for (const k of [a, b, c]) t.add(k);
    expect(t.keys().map((k) => k.id)).toEqual([1, 0, 2]);
    const cur: Cursor<K> = { leaf: undefined, index: 0 };
    expect(OrderedKeys.at(t.seekAbove(TWO53, 1, cur))?.id).toBe(0);
  });

  test('seekAboveSafe takes only integers a double holds exactly (0 to 2^53 − 1)', () => {
    const t = new OrderedKeys<K>(4);
    const top = key(TWO53 - 1n, 0);
    t.add(top);
    t.add(key(TWO53, 1));
    const cur: Cursor<K> = { leaf: undefined, index: 0 };
    expect(OrderedKeys.at(t.seekAboveSafe(Number.MAX_SAFE_INTEGER, -1, cur))).toBe(top);
    expect(OrderedKeys.at(t.seekAboveSafe(Number.MAX_SAFE_INTEGER, 0, cur))?.id).toBe(1);
    for (const bad of [2 ** 53, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => t.seekAboveSafe(bad, 0, cur)).toThrow(RangeError);
  });

  test('max below 4 is refused', () => {
    expect(() => new OrderedKeys<K>(3)).toThrow(RangeError);
  });
});
