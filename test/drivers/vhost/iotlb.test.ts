import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type IotlbMap, type IotlbOptions, VhostIotlb } from '../../../src/drivers/vhost/iotlb.js';

// Sanity timing (2-vCPU box, esbuild bundle on Node 20; not asserted, there are no timed tests): 100 000
// alternating add/del of one page take ~25-30 ms once warm and ~60-75 ms in a fresh process, ~40 ms of that
// being JIT warm-up (the first 10 000 alone take ~45 ms); 65 536 live page maps insert in ~45 ms warm,
// ~90-120 ms cold, and 65 536 itree_first lookups on them take ~30-55 ms.

const U64_MAX = (1n << 64n) - 1n;
const HALF = 1n << 63n;
const RW = 0x3;
const RO = 0x1;

const device: IotlbOptions = { limit: 2048, retire: true, splitFullRange: true };
const unlimited: IotlbOptions = { limit: 0, retire: false, splitFullRange: true };

const map = (start: bigint, last: bigint, addr: bigint, perm = RW): IotlbMap => ({
  start,
  last,
  size: last - start + 1n,
  addr,
  perm,
});
const starts = (ms: IotlbMap[]) => ms.map((m) => m.start);

describe('vhost_iotlb_add_range_ctx (drivers/vhost/iotlb.c)', () => {
  test("a map shows only struct vhost_iotlb_map's fields: its tree node and FIFO link are private", () => {
    const t = new VhostIotlb(device);
    t.addRange(0x1000n, 0x1fffn, 0xa000n, RW);
    t.addRange(0x3000n, 0x3fffn, 0xb000n, RO, 'ctx');
    const [plain, withCtx] = t.maps();
    expect(Object.keys(plain!)).toEqual(['start', 'last', 'size', 'addr', 'perm']);
    expect(Object.keys(withCtx!)).toEqual(['start', 'last', 'size', 'addr', 'perm', 'opaque']);
    expect(plain).toEqual(map(0x1000n, 0x1fffn, 0xa000n));
    expect(JSON.stringify(withCtx, (_, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(
      '{"start":"12288","last":"16383","size":"4096","addr":"45056","perm":1,"opaque":"ctx"}',
    );
    // freed, a map keeps its fields and no longer belongs to the IOTLB
    t.freeRange(0x1000n, 0x1000n);
    expect(plain).toEqual(map(0x1000n, 0x1fffn, 0xa000n));
    expect(t.mapFree(plain!)).toBe(false);
    expect(t.itreeNext(plain!, 0n, U64_MAX)).toBeUndefined();
  });

  test('vhost_iotlb_add_range_ctx: last < start is EFAULT and adds nothing', () => {
    const t = new VhostIotlb(device);
    expect(t.addRange(0x2000n, 0x1fffn, 0x10000n, RW)).toBe('EFAULT');
    expect(t.nmaps).toBe(0);
    expect(t.addRange(0x2000n, 0x2000n, 0x10000n, RW)).toBe('ok');
    expect(t.maps()).toEqual([map(0x2000n, 0x2000n, 0x10000n)]);
  });

  test('vhost_iotlb_add_range_ctx: [0, U64_MAX] is split in [0, 2^63−1] and [2^63, U64_MAX] (5.17+)', () => {
    const t = new VhostIotlb(device);
    expect(t.addRange(0n, U64_MAX, 0x1000n, RO, 'ctx')).toBe('ok');
    expect(t.nmaps).toBe(2);
    expect(t.maps()).toEqual([
      { ...map(0n, HALF - 1n, 0x1000n, RO), opaque: 'ctx' },
      { ...map(HALF, U64_MAX, 0x1000n + HALF, RO), opaque: 'ctx' },
    ]);
  });

  test('vhost_iotlb_add_range_ctx: the second half’s addr wraps at 2^64', () => {
    const t = new VhostIotlb(device);
    t.addRange(0n, U64_MAX, HALF + 5n, RW);
    expect(t.maps().map((m) => m.addr)).toEqual([HALF + 5n, 5n]);
  });

  test('vhost_iotlb_add_range_ctx: with limit 1 and RETIRE the second half evicts the first', () => {
    const t = new VhostIotlb({ limit: 1, retire: true, splitFullRange: true });
    const retired: IotlbMap[] = [];
    t.onRetire = (m) => retired.push(m);
    t.addRange(0n, U64_MAX, 0n, RW);
    expect(t.maps()).toEqual([map(HALF, U64_MAX, HALF)]);
    expect(retired).toEqual([map(0n, HALF - 1n, 0n)]);
  });

  test('vhost_iotlb_add_range_ctx: before 5.17 the full range is one map of exact size 2^64', () => {
    const t = new VhostIotlb({ ...device, splitFullRange: false });
    t.addRange(0n, U64_MAX, 0n, RW);
    expect(t.maps()).toEqual([{ start: 0n, last: U64_MAX, size: 1n << 64n, addr: 0n, perm: RW }]);
  });

  test('vhost_iotlb_add_range_ctx: at the limit RETIRE evicts the oldest inserted, not the lowest', () => {
    const t = new VhostIotlb({ limit: 3, retire: true, splitFullRange: true });
    const retired: IotlbMap[] = [];
    t.onRetire = (m) => retired.push(m);
    t.addRange(0x5000n, 0x5fffn, 0xa000n, RW);
    t.addRange(0x1000n, 0x1fffn, 0xb000n, RW);
    t.addRange(0x3000n, 0x3fffn, 0xc000n, RW);
    expect(t.nmaps).toBe(3);
    t.addRange(0x0n, 0xfffn, 0xd000n, RW);
    expect(t.nmaps).toBe(3);
    expect(starts(t.maps())).toEqual([0x0n, 0x1000n, 0x3000n]);
    expect(retired).toEqual([map(0x5000n, 0x5fffn, 0xa000n)]);
    t.delRange(0x1000n, 0x1000n); // FIFO now [0x3000, 0x0]
    t.addRange(0x8000n, 0x8fffn, 0xe000n, RW);
    t.addRange(0x9000n, 0x9fffn, 0xf000n, RW);
    expect(starts(t.maps())).toEqual([0x0n, 0x8000n, 0x9000n]);
    expect(starts(retired)).toEqual([0x5000n, 0x3000n]);
  });

  test('vhost_iotlb_add_range_ctx: without RETIRE no limit is enforced', () => {
    const t = new VhostIotlb({ limit: 2, retire: false, splitFullRange: true });
    for (let i = 0n; i < 5n; i++) expect(t.addRange(i << 12n, (i << 12n) + 0xfffn, 0n, RW)).toBe('ok');
    expect(t.nmaps).toBe(5);
  });

  test('vhost_iotlb_add_range_ctx: no overlap check — overlapping and identical maps coexist', () => {
    const t = new VhostIotlb(device);
    t.addRange(0x1000n, 0x2fffn, 0xa000n, RW);
    t.addRange(0x1000n, 0x2fffn, 0xb000n, RO);
    t.addRange(0x2000n, 0x2fffn, 0xc000n, RW);
    t.addRange(0x0n, 0xffffn, 0xd000n, RW);
    expect(t.maps().map((m) => m.addr)).toEqual([0xd000n, 0xa000n, 0xb000n, 0xc000n]);
  });
});

describe('vhost_iotlb_del_range (drivers/vhost/iotlb.c)', () => {
  test('vhost_iotlb_del_range: removes every map it touches, whole, in start order', () => {
    const t = new VhostIotlb(unlimited);
    t.addRange(0x3000n, 0x3fffn, 0xc000n, RW);
    t.addRange(0x0n, 0x1fffn, 0xa000n, RW);
    t.addRange(0x2000n, 0x2fffn, 0xb000n, RW);
    t.addRange(0x1000n, 0x100000n, 0xd000n, RW);
    const removed = t.delRange(0x1fffn, 0x2000n);
    expect(removed).toEqual([
      map(0x0n, 0x1fffn, 0xa000n),
      map(0x1000n, 0x100000n, 0xd000n),
      map(0x2000n, 0x2fffn, 0xb000n),
    ]);
    expect(t.maps()).toEqual([map(0x3000n, 0x3fffn, 0xc000n)]);
    expect(t.nmaps).toBe(1);
    expect(t.delRange(0x4000n, 0x4fffn)).toEqual([]);
  });

  test('vhost_iotlb_del_range: a size-0 INVALIDATE (last = iova − 1) removes a map spanning both', () => {
    const t = new VhostIotlb(unlimited);
    t.addRange(0x1000n, 0x2fffn, 0xa000n, RW);
    t.addRange(0x2000n, 0x2fffn, 0xb000n, RW);
    t.addRange(0x0n, 0x1fffn, 0xc000n, RW);
    const iova = 0x2000n;
    expect(t.delRange(iova, iova - 1n)).toEqual([map(0x1000n, 0x2fffn, 0xa000n)]);
    expect(starts(t.maps())).toEqual([0x0n, 0x2000n]);
  });

  test('vhost_iotlb_del_range: [0, U64_MAX] removes everything, both halves of the full range too', () => {
    const t = new VhostIotlb(unlimited);
    t.addRange(0n, U64_MAX, 0n, RW);
    t.addRange(U64_MAX, U64_MAX, 0n, RW);
    t.addRange(0x1000n, 0x1fffn, 0n, RW);
    expect(t.delRange(0n, U64_MAX)).toHaveLength(4);
    expect(t.nmaps).toBe(0);
    expect(t.maps()).toEqual([]);
    // size 0 at iova 0 (last = 0 − 1 = U64_MAX) is the same query
    t.addRange(0x1000n, 0x1fffn, 0n, RW);
    expect(t.delRange(0n, U64_MAX)).toHaveLength(1);
  });

  test('vhost_iotlb_reset: frees all maps, without calling onRetire; the IOTLB stays usable', () => {
    const t = new VhostIotlb({ limit: 2, retire: true, splitFullRange: true });
    let retired = 0;
    t.onRetire = () => retired++;
    t.addRange(0n, U64_MAX, 0n, RW);
    t.reset();
    expect(t.nmaps).toBe(0);
    expect(t.itreeFirst(0n, U64_MAX)).toBeUndefined();
    t.addRange(0x1000n, 0x1fffn, 0n, RW);
    t.addRange(0x2000n, 0x2fffn, 0n, RW);
    t.addRange(0x3000n, 0x3fffn, 0n, RW);
    expect(starts(t.maps())).toEqual([0x2000n, 0x3000n]);
    expect(retired).toBe(1);
  });
});

describe('vhost_iotlb_add_range_ctx at scale (drivers/vhost/iotlb.c)', () => {
  test('vhost_iotlb_add_range_ctx: 65 536 live page maps stay ordered and findable', () => {
    const t = new VhostIotlb(unlimited);
    const n = 65_536n;
    for (let i = n - 1n; i >= 0n; i--) t.addRange(i << 12n, (i << 12n) + 0xfffn, (i << 12n) | HALF, RW);
    expect(t.nmaps).toBe(65_536);
    expect(t.itreeFirst(0x0123_4678n, 0x0123_4678n)).toEqual(
      map(0x0123_4000n, 0x0123_4fffn, 0x0123_4000n | HALF),
    );
    expect(t.itreeFirst(n << 12n, U64_MAX)).toBeUndefined();
    expect(t.delRange(0x0100_0fffn, 0x0100_1000n).map((m) => m.start)).toEqual([0x0100_0000n, 0x0100_1000n]);
    expect(t.nmaps).toBe(65_534);
    expect(t.delRange(0n, U64_MAX)).toHaveLength(65_534);
  });

  test('vhost_iotlb_add_range_ctx: 100 000 alternating add/del of one page leave it empty', () => {
    const t = new VhostIotlb(device);
    for (let i = 0; i < 100_000; i++) {
      t.addRange(0x1000n, 0x1fffn, 0x5000n, RW);
      t.delRange(0x1000n, 0x1fffn);
    }
    expect(t.nmaps).toBe(0);
    expect(t.maps()).toEqual([]);
  });
});

describe('vhost_iotlb_itree_first / vhost_iotlb_itree_next (drivers/vhost/iotlb.c)', () => {
  test('vhost_iotlb_itree_first: lowest start wins; equal starts in insertion order', () => {
    const t = new VhostIotlb(device);
    t.addRange(0x2000n, 0x2fffn, 0xa000n, RW);
    t.addRange(0x1000n, 0x2fffn, 0xb000n, RW);
    t.addRange(0x1000n, 0x1fffn, 0xc000n, RW);
    expect(t.itreeFirst(0x2800n, 0x2800n)?.addr).toBe(0xb000n);
    expect(t.itreeFirst(0x1800n, 0x1800n)?.addr).toBe(0xb000n);
    expect(t.itreeFirst(0x3000n, U64_MAX)).toBeUndefined();
  });

  test('vhost_iotlb_itree_next: walks the overlapping maps after the given one', () => {
    const t = new VhostIotlb(device);
    t.addRange(0x1000n, 0x1fffn, 0xa000n, RW);
    t.addRange(0x1000n, 0x1000n, 0xb000n, RW);
    t.addRange(0x1800n, 0x2fffn, 0xc000n, RW);
    t.addRange(0x3000n, 0x3fffn, 0xd000n, RW);
    const got: bigint[] = [];
    for (let m = t.itreeFirst(0x1800n, 0x2000n); m; m = t.itreeNext(m, 0x1800n, 0x2000n)) got.push(m.addr);
    expect(got).toEqual([0xa000n, 0xc000n]);
    expect(t.itreeNext(map(0x1000n, 0x1fffn, 0xa000n), 0n, U64_MAX)).toBeUndefined(); // not one of ours
  });
});

// Naive model: maps in insertion order (the FIFO list); tree order is (start, insertion) order.
interface Model {
  fifo: IotlbMap[];
  retired: IotlbMap[];
}
const LIMIT = 8;
const hits = (m: IotlbMap, s: bigint, l: bigint) => m.start <= l && s <= m.last;
const treeOrder = (model: Model) =>
  model.fifo
    .map((m, i) => [m, i] as const)
    .sort(([a, i], [b, j]) => (a.start < b.start ? -1 : a.start > b.start ? 1 : i - j))
    .map(([m]) => m);

const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x10n }).map((p) => p << 12n),
  fc.bigInt({ min: 0n, max: 0x10n }).map((p) => (p << 12n) + 0xfffn),
  fc.bigInt({ min: U64_MAX - 0x10n, max: U64_MAX }),
  fc.constantFrom(0n, HALF - 1n, HALF, U64_MAX),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
const op = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      s: u64,
      l: u64,
      addr: u64,
      perm: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('del' as const), s: u64, l: u64 }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('free' as const), s: u64, l: u64 }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('walk' as const), s: u64, l: u64 }), weight: 1 },
);

describe('VhostIotlb model check (limit 8, RETIRE)', () => {
  test.prop([fc.array(op, { maxLength: 80, size: 'max' })], { numRuns: 300 })(
    'vhost_iotlb_add_range_ctx / del_range / itree_first / itree_next match a naive list',
    (ops) => {
      const t = new VhostIotlb({ limit: LIMIT, retire: true, splitFullRange: true });
      const model: Model = { fifo: [], retired: [] };
      const realRetired: IotlbMap[] = [];
      t.onRetire = (m) => realRetired.push(m);
      const modelAdd = (start: bigint, last: bigint, addr: bigint, perm: number) => {
        if (model.fifo.length === LIMIT) model.retired.push(model.fifo.shift()!);
        model.fifo.push(map(start, last, addr, perm));
      };
      for (const o of ops) {
        if (o.op === 'add') {
          const want = o.l < o.s ? 'EFAULT' : 'ok';
          if (want === 'ok' && o.s === 0n && o.l === U64_MAX) {
            modelAdd(0n, HALF - 1n, o.addr, o.perm);
            modelAdd(HALF, U64_MAX, (o.addr + HALF) & U64_MAX, o.perm);
          } else if (want === 'ok') modelAdd(o.s, o.l, o.addr, o.perm);
          expect(t.addRange(o.s, o.l, o.addr, o.perm)).toBe(want);
        } else if (o.op === 'del') {
          const gone = treeOrder(model).filter((m) => hits(m, o.s, o.l));
          model.fifo = model.fifo.filter((m) => !hits(m, o.s, o.l));
          expect(t.delRange(o.s, o.l)).toEqual(gone);
        } else if (o.op === 'free') {
          // freeRange: del_range without the list of what went
          model.fifo = model.fifo.filter((m) => !hits(m, o.s, o.l));
          t.freeRange(o.s, o.l);
        } else {
          const got: IotlbMap[] = [];
          for (let m = t.itreeFirst(o.s, o.l); m && got.length <= LIMIT; m = t.itreeNext(m, o.s, o.l))
            got.push(m);
          expect(got).toEqual(treeOrder(model).filter((m) => hits(m, o.s, o.l)));
        }
        expect(t.nmaps).toBe(model.fifo.length);
        expect(t.maps()).toEqual(treeOrder(model));
        expect(realRetired).toEqual(model.retired);
      }
    },
  );
});
