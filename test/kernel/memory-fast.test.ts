// The Number fast paths of memory.ts (MemObject.readIntoAt, the per-page cache, Mm's last-VMA cache in
// copyFromUserInto) against byte-level models: offsets below and past 2^53, 2^64 and 2^65 (bigint page
// keys), copies crossing pages and mappings, near TASK_SIZE_MAX, after munmap, after a VMA is replaced with
// other protections (what an mprotect would do), after fork and exit, with the cache warm in between.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { MemObject, Mm, PROT_READ, PROT_WRITE, TASK_SIZE_MAX, type Vma } from '../../src/kernel/memory.js';

const P = 0x1000n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** a byte model of an object: offset -> byte (absent: zero) */
type Bytes = Map<bigint, number>;
const modelRead = (m: Bytes | undefined, off: bigint, len: number) =>
  Uint8Array.from({ length: len }, (_, i) => m?.get(off + BigInt(i)) ?? 0);
function modelWrite(m: Bytes, off: bigint, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) m.set(off + BigInt(i), data[i]!);
}

/** offsets around the edges where Number and bigint arithmetic part */
const offsetArb = fc
  .tuple(
    fc.constantFrom(
      0n,
      0x10000n,
      SAFE + 1n - 3n * P,
      SAFE - 40n,
      SAFE + 1n,
      1n << 64n,
      (1n << 65n) - 2n * P,
      1n << 70n,
    ),
    fc.integer({ min: 0, max: 3 * 4096 }),
  )
  .map(([b, d]) => b + BigInt(d));

describe('MemObject: the Number path and the page cache agree with a byte model', () => {
  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.record({
            w: fc.constant(true),
            off: offsetArb,
            data: fc.uint8Array({ minLength: 1, maxLength: 2000 }),
          }),
          fc.record({
            w: fc.constant(false),
            off: offsetArb,
            len: fc.oneof(fc.integer({ min: 0, max: 140 }), fc.integer({ min: 0, max: 5000 })),
          }),
        ),
        { minLength: 6, maxLength: 24 },
      ),
    ],
    { numRuns: 30 },
  )('writes and reads at any offset, across pages, through a warm cache', (ops) => {
    const o = new MemObject('anon', 1n << 80n, 1);
    const m: Bytes = new Map();
    for (const op of ops) {
      if ('data' in op) {
        o.write(op.off, op.data);
        modelWrite(m, op.off, op.data);
      } else {
        expect(o.read(op.off, op.len)).toEqual(modelRead(m, op.off, op.len));
        // the same bytes into a buffer at an offset (the readInto of the hot paths), twice: cache warm
        const dst = new Uint8Array(op.len + 13).fill(0xee);
        o.readInto(op.off, dst, 5, op.len);
        o.readInto(op.off, dst, 5, op.len);
        expect(dst.subarray(5, 5 + op.len)).toEqual(modelRead(m, op.off, op.len));
        expect([...dst.subarray(0, 5), ...dst.subarray(5 + op.len)].every((b) => b === 0xee)).toBe(true);
      }
    }
    // fork's copy: the same bytes, its own pages
    const c = o.copy(2);
    for (const op of ops) if (!('data' in op)) expect(c.read(op.off, op.len)).toEqual(o.read(op.off, op.len));
    c.write(0n, new Uint8Array([0x5a]));
    expect(o.read(0n, 1)).toEqual(modelRead(m, 0n, 1));
  });

  test('a page allocated after a read of it as zeros is seen by the next read (cache holds only present pages)', () => {
    const o = new MemObject('anon', 0x3000n, 1);
    o.write(0x10n, new Uint8Array([1]));
    expect(o.read(0x1010n, 20)).toEqual(new Uint8Array(20));
    o.write(0x1010n, new Uint8Array(20).fill(7));
    expect(o.read(0x1010n, 20)).toEqual(new Uint8Array(20).fill(7));
    expect(o.read(0x10n, 1)).toEqual(new Uint8Array([1]));
  });

  test('word copies read the page now asked for, not the one cached before (alternating pages)', () => {
    const o = new MemObject('anon', 0x3000n, 1);
    o.write(0n, new Uint8Array(4096).fill(1));
    o.write(0x1000n, new Uint8Array(4096).fill(2));
    for (const [off, b] of [
      [0x10n, 1],
      [0x1010n, 2],
      [0x20n, 1],
      [0x1fd0n, 2],
    ] as const) {
      const dst = new Uint8Array(40);
      o.readInto(off, dst, 0, 40);
      expect(dst).toEqual(new Uint8Array(40).fill(b));
    }
  });

  test('page 2^53 and page 0 are different pages (offsets 2^65 apart)', () => {
    const o = new MemObject('anon', 1n << 80n, 1);
    const far = (1n << 53n) * P;
    o.write(far, new Uint8Array([9, 9]));
    expect(o.read(0n, 2)).toEqual(new Uint8Array(2));
    expect(o.read(far, 2)).toEqual(new Uint8Array([9, 9]));
    o.write(0n, new Uint8Array([3]));
    expect(o.read(far, 1)).toEqual(new Uint8Array([9]));
  });
});

/** A reference copy_from_user, byte by byte over the VMA list: the bytes, or undefined where any faults. */
function refCopy(mm: Mm, model: Map<MemObject, Bytes>, addr: bigint, len: number): Uint8Array | undefined {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const a = addr + BigInt(i);
    if (a < 0n || a >= TASK_SIZE_MAX) return undefined;
    const v = mm.vmas.find((m) => m.start <= a && a < m.end);
    if (!v || v.io || !(v.prot & PROT_READ)) return undefined;
    out[i] = model.get(v.obj)?.get(v.pgoff + (a - v.start)) ?? 0;
  }
  return out;
}

/** where mappings go: low, just under TASK_SIZE_MAX (one reaching past it), past 2^53 */
const BASES = [0x10000n, TASK_SIZE_MAX - 8n * P, SAFE + 1n - 4n * P, 1n << 63n];

type Op =
  | { op: 'map'; base: number; page: number; pages: number; prot: number; io: boolean; pgoff: number }
  | { op: 'unmap'; base: number; page: number; pages: number }
  | { op: 'reprot'; pick: number; prot: number }
  | { op: 'write'; base: number; at: number; data: Uint8Array }
  | { op: 'read'; base: number; at: number; len: number }
  | { op: 'readVma'; pick: number; at: number; len: number }
  | { op: 'fork' }
  | { op: 'exit' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      base: fc.nat(BASES.length - 1),
      page: fc.nat(9),
      pages: fc.integer({ min: 1, max: 3 }),
      prot: fc.oneof(fc.constant(3), fc.nat(3)),
      io: fc.oneof(fc.constant(false), fc.boolean()),
      pgoff: fc.constantFrom(0, 1, 2 ** 41, 2 ** 41 - 2, 2 ** 60),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('unmap' as const),
      base: fc.nat(BASES.length - 1),
      page: fc.nat(9),
      pages: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('reprot' as const), pick: fc.nat(), prot: fc.nat(3) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      base: fc.nat(BASES.length - 1),
      at: fc.integer({ min: 0, max: 12 * 4096 }),
      data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      base: fc.nat(BASES.length - 1),
      at: fc.integer({ min: 0, max: 12 * 4096 }),
      len: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5000 })),
    }),
    weight: 6,
  },
  {
    // a copy near a mapping's start (and so often inside it): the cache's usual hit
    arbitrary: fc.record({
      op: fc.constant('readVma' as const),
      pick: fc.nat(),
      at: fc.integer({ min: -64, max: 3 * 4096 }),
      len: fc.integer({ min: 0, max: 160 }),
    }),
    weight: 6,
  },
  { arbitrary: fc.constant({ op: 'fork' as const }), weight: 1 },
  { arbitrary: fc.constant({ op: 'exit' as const }), weight: 1 },
);

describe('Mm.copyFromUserInto with its last-VMA cache agrees with a byte-by-byte reference', () => {
  test.prop([fc.array(opArb, { minLength: 20, maxLength: 80 })], { numRuns: 300 })(
    'after mmap, munmap, protection changes, fork and exit',
    (ops) => {
      let mm = new Mm(1, 0x7f0000000000n);
      const model = new Map<MemObject, Bytes>();
      let nextId = 1;
      for (const o of ops) {
        switch (o.op) {
          case 'map': {
            const start = BASES[o.base]! + BigInt(o.page) * P;
            const end = start + BigInt(o.pages) * P;
            if (mm.overlaps(start, end)) break;
            const obj = new MemObject('anon', BigInt(o.pages) * P, nextId++);
            const v: Vma = {
              start,
              end,
              obj,
              pgoff: BigInt(o.pgoff) * P,
              prot: o.prot,
              shared: false,
              ...(o.io ? { io: true } : {}),
            };
            mm.insert(v);
            break;
          }
          case 'unmap': {
            const start = BASES[o.base]! + BigInt(o.page) * P;
            mm.unmapRange(start, start + BigInt(o.pages) * P);
            break;
          }
          case 'reprot': {
            // mprotect of a whole mapping: the VMA replaced by one with the other protection
            if (!mm.vmas.length) break;
            const v = mm.vmas[o.pick % mm.vmas.length]!;
            mm.remove(v);
            mm.insert({ ...v, prot: o.prot });
            break;
          }
          case 'write': {
            const addr = BASES[o.base]! + BigInt(o.at);
            const ok = mm.writeUser(addr, o.data);
            if (ok) {
              // mirror into the model byte by byte through the VMAs
              o.data.forEach((b, i) => {
                const a = addr + BigInt(i);
                const v = mm.vmas.find((m) => m.start <= a && a < m.end)!;
                let m = model.get(v.obj);
                if (!m) model.set(v.obj, (m = new Map()));
                m.set(v.pgoff + (a - v.start), b);
              });
            }
            break;
          }
          case 'read':
          case 'readVma': {
            if (o.op === 'readVma' && !mm.vmas.length) break;
            const addr =
              o.op === 'read'
                ? BASES[o.base]! + BigInt(o.at)
                : mm.vmas[o.pick % mm.vmas.length]!.start + BigInt(o.at);
            const want = refCopy(mm, model, addr, o.len);
            for (let k = 0; k < 2; k++) {
              const dst = new Uint8Array(o.len + 3);
              const got = mm.copyFromUserInto(addr, dst, 3, o.len);
              expect(got).toBe(want !== undefined);
              if (want) expect(dst.subarray(3)).toEqual(want);
              expect(mm.readUser(addr, o.len)).toEqual(want);
            }
            break;
          }
          case 'fork': {
            const child = mm.clone(mm.id + 1, () => nextId++);
            child.vmas.forEach((v, i) => {
              const pv = mm.vmas[i]!;
              if (v.obj !== pv.obj) model.set(v.obj, new Map(model.get(pv.obj)));
            });
            // the parent's cache stays its own: a write by the child to a private page is not seen
            mm = child;
            break;
          }
          case 'exit':
            mm.vmas.length = 0;
            break;
        }
      }
    },
  );

  test('fork: the parent reads its own private page after the child wrote its copy, cache warm on both', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    const obj = new MemObject('anon', P, 1);
    mm.insert({
      start: 0x10000n,
      end: 0x11000n,
      obj,
      pgoff: 0n,
      prot: PROT_READ | PROT_WRITE,
      shared: false,
    });
    expect(mm.writeUser(0x10000n, new Uint8Array(40).fill(1))).toBe(true);
    const dst = new Uint8Array(40);
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 40)).toBe(true);
    const child = mm.clone(2, () => 2);
    expect(child.copyFromUserInto(0x10000n, dst, 0, 40)).toBe(true);
    expect(child.writeUser(0x10000n, new Uint8Array(40).fill(2))).toBe(true);
    expect(child.copyFromUserInto(0x10000n, dst, 0, 40)).toBe(true);
    expect(dst).toEqual(new Uint8Array(40).fill(2));
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 40)).toBe(true);
    expect(dst).toEqual(new Uint8Array(40).fill(1));
  });

  test('a cached VMA unmapped, or made unreadable, faults the next copy; remapped, reads the new object', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    const a = new MemObject('anon', P, 1);
    a.write(0n, new Uint8Array([1, 2, 3, 4]));
    const v: Vma = { start: 0x10000n, end: 0x11000n, obj: a, pgoff: 0n, prot: PROT_READ, shared: false };
    mm.insert(v);
    const dst = new Uint8Array(4);
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 4)).toBe(true);
    mm.remove(v);
    mm.insert({ ...v, prot: PROT_WRITE });
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 4)).toBe(false);
    mm.unmapRange(0x10000n, 0x11000n);
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 4)).toBe(false);
    const b = new MemObject('anon', P, 2);
    b.write(0n, new Uint8Array([9, 8, 7, 6]));
    mm.insert({ ...v, obj: b });
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 4)).toBe(true);
    expect(dst).toEqual(new Uint8Array([9, 8, 7, 6]));
    mm.vmas.length = 0; // exit
    expect(mm.copyFromUserInto(0x10000n, dst, 0, 4)).toBe(false);
  });

  test('copies end at TASK_SIZE_MAX even inside a mapping reaching past it; 2^53 and up fault', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    const o = new MemObject('anon', 4n * P, 1);
    mm.insert({
      start: TASK_SIZE_MAX - 2n * P,
      end: TASK_SIZE_MAX + 2n * P,
      obj: o,
      pgoff: 0n,
      prot: 3,
      shared: false,
    });
    mm.insert({ start: 1n << 53n, end: (1n << 53n) + P, obj: o, pgoff: 0n, prot: 3, shared: false });
    const dst = new Uint8Array(64);
    expect(mm.copyFromUserInto(TASK_SIZE_MAX - 64n, dst, 0, 64)).toBe(true);
    expect(mm.copyFromUserInto(TASK_SIZE_MAX - 63n, dst, 0, 64)).toBe(false);
    expect(mm.copyFromUserInto(TASK_SIZE_MAX, dst, 0, 1)).toBe(false);
    expect(mm.copyFromUserInto(1n << 53n, dst, 0, 1)).toBe(false);
    expect(mm.copyFromUserInto((1n << 64n) - 1n, dst, 0, 1)).toBe(false);
    expect(mm.copyFromUserInto(-1n, dst, 0, 1)).toBe(false);
    expect(mm.copyFromUserInto(TASK_SIZE_MAX - 64n, dst, 0, 64)).toBe(true);
  });
});
