// IOMMU_IOAS_ALLOW_IOVAS, IOMMU_IOAS_COPY, IOMMU_IOAS_IOVA_RANGES, IOMMU_OPTION and IOMMU_VFIO_IOAS
// (drivers/iommu/iommufd/ioas.c, io_pagetable.c, pages.c, main.c, vfio_compat.c @ 6.12, and where
// 6.9 differs): every refusal with the function that decides it, and the state each leaves.
import { describe, expect, test } from 'vitest';
import { userLockedPages } from '../../../src/drivers/iommufd/io-pagetable.js';
import { type Ioas, type IommufdCtx, iommufdOf } from '../../../src/drivers/iommufd/iommufd.js';
import { lockedPages } from '../../../src/drivers/vfio/type1.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import {
  IOMMUFD_MINSZ,
  iommu_ioas_allow_iovas,
  iommu_ioas_copy,
  iommu_ioas_iova_ranges,
  iommu_ioas_map,
  iommu_option,
  iommu_vfio_ioas,
} from '../../../src/uapi/iommufd.js';
import { decodeStruct, encodeStruct, type StructDef } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map } from '../../../src/uapi/vfio.js';
import {
  bindTo,
  errnoOf,
  io,
  ioasUnmap,
  iofd,
  open,
  site,
  type VF,
  vfioKernel,
  words,
} from '../vfio/helpers.js';

const FIXED = 1n;
const W = 2n;
const R = 4n;
const RW = W | R;
const ULONG_MAX = (1n << 64n) - 1n;
const PAGE = 0x1000n;
/** where the iommu_iova_range arrays go in the scratch page (the struct is at its start) */
const ARRAY_AT = 0x800n;
/** the holes of the reserved tree with the emulated VT-d domain (machine.md) */
const VTD_RANGES = [
  { start: 0n, last: 0xfedfffffn },
  { start: 0xfef00000n, last: 0x7fffffffffn },
];

type Site = ReturnType<typeof site>;

/** one iommufd command: the struct staged at size `size` (default the full struct), its outcome and the struct after */
function call(
  f: VF,
  fd: number,
  name: string,
  def: StructDef,
  v: Record<string, bigint>,
): { r: Site; out: Record<string, bigint> } {
  const a = f.k.stage(f.p, encodeStruct(def, { size: BigInt(def.size), ...v }));
  const r = site(iofd(f, fd, name, a));
  return { r, out: decodeStruct(def, f.p.mm.readUser(a, def.size)!) };
}

/** the same call with the step's Nth fault point failing; also the site that fired */
function failing(f: VF, n: number, run: () => { r: Site }): { r: Site; fired: string | undefined } {
  const before = f.k.fault.injected.length;
  f.k.fault.armStep(f.p.mm, n);
  try {
    const { r } = run();
    return { r, fired: f.k.fault.injected[before]?.site };
  } finally {
    f.k.fault.disarmStep();
  }
}

/** iommu_iova_range entries staged after the struct */
function rangesAt(f: VF, list: readonly (readonly [bigint, bigint])[]): bigint {
  const b = new Uint8Array(16 * Math.max(list.length, 1));
  const d = new DataView(b.buffer);
  list.forEach(([s, e], i) => {
    d.setBigUint64(16 * i, s, true);
    d.setBigUint64(16 * i + 8, e, true);
  });
  return f.k.stage(f.p, b, ARRAY_AT);
}

function readRanges(f: VF, at: bigint, n: number): { start: bigint; last: bigint }[] {
  const b = f.p.mm.readUser(at, 16 * n)!;
  const d = new DataView(b.buffer, b.byteOffset);
  return Array.from({ length: n }, (_, i) => ({
    start: d.getBigUint64(16 * i, true),
    last: d.getBigUint64(16 * i + 8, true),
  }));
}

function guest(f: VF, size: bigint, at?: bigint): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon', ...(at ? { at } : {}) });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

/** a process without capabilities (no CAP_IPC_LOCK: its pages are accounted) beside root */
function user(root: VF, caps: string[] = []): VF {
  return { k: root.k, p: root.k.spawn('user', new Set(caps)) };
}

/** /dev/iommu for `f` (03:00.0 bound to vfio-pci by `root`), with helpers for its commands */
function iommufd(f: VF, root: VF = f, path = '/dev/iommu') {
  const fd = open(f, path);
  const ctx = (): IommufdCtx => iommufdOf(f.p.fds.get(fd))!;
  const ioasOf = (id: bigint) => ctx().objects.get(Number(id)) as Ioas;
  const alloc = (): bigint => {
    const a = words(f, [
      [12n, 4],
      [0n, 4],
      [0n, 4],
    ]);
    expect(errnoOf(iofd(f, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
    return BigInt(new DataView(f.p.mm.readUser(a + 8n, 4)!.buffer).getUint32(0, true));
  };
  const map = (id: bigint, uptr: bigint, length: bigint, iova = 0n, flags = FIXED | RW) => {
    const x = call(f, fd, 'IOMMU_IOAS_MAP', iommu_ioas_map, {
      flags,
      ioas_id: id,
      user_va: uptr,
      length,
      iova,
    });
    return { r: x.r, iova: x.out.iova! };
  };
  const unmap = (id: bigint, iova: bigint, length: bigint) => ioasUnmap(f, fd, id, iova, length);
  const copy = (v: Record<string, bigint>) => call(f, fd, 'IOMMU_IOAS_COPY', iommu_ioas_copy, v);
  const allow = (
    id: bigint,
    list: readonly (readonly [bigint, bigint])[],
    extra: Record<string, bigint> = {},
  ) =>
    call(f, fd, 'IOMMU_IOAS_ALLOW_IOVAS', iommu_ioas_allow_iovas, {
      ioas_id: id,
      num_iovas: BigInt(list.length),
      allowed_iovas: rangesAt(f, list),
      ...extra,
    });
  const ranges = (id: bigint, num: bigint, extra: Record<string, bigint> = {}) => {
    const at = rangesAt(f, [
      [0xaaaan, 0xbbbbn],
      [0xaaaan, 0xbbbbn],
      [0xaaaan, 0xbbbbn],
    ]);
    const x = call(f, fd, 'IOMMU_IOAS_IOVA_RANGES', iommu_ioas_iova_ranges, {
      ioas_id: id,
      num_iovas: num,
      allowed_iovas: at,
      ...extra,
    });
    return { ...x, array: readRanges(f, at, 3) };
  };
  const opt = (v: Record<string, bigint>) => call(f, fd, 'IOMMU_OPTION', iommu_option, v);
  const vfio = (op: bigint, ioasId = 0n, extra: Record<string, bigint> = {}) =>
    call(f, fd, 'IOMMU_VFIO_IOAS', iommu_vfio_ioas, { op, ioas_id: ioasId, ...extra });
  let dev = -1;
  /** bind 03:00.0's cdev to this context and attach it to the IOAS: its first domain */
  const attach = (id: bigint): Site => {
    if (dev < 0) {
      expect(bindTo(root, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
      dev = open(f, '/dev/vfio/devices/vfio0');
      const bind = words(f, [
        [16n, 4],
        [0n, 4],
        [BigInt(fd), 4],
        [0n, 4],
      ]);
      expect(errnoOf(iofd(f, dev, 'VFIO_DEVICE_BIND_IOMMUFD', bind))).toBe(0);
    }
    return site(
      iofd(
        f,
        dev,
        'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
        words(f, [
          [12n, 4],
          [0n, 4],
          [id, 4],
        ]),
      ),
    );
  };
  return { fd, ctx, ioasOf, alloc, map, unmap, copy, allow, ranges, opt, vfio, attach };
}

const areasOf = (ioas: Ioas) =>
  [...ioas.areas]
    .sort((a, b) => (a.iova < b.iova ? -1 : 1))
    .map((a) => ({ iova: a.iova, length: a.length, uptr: a.uptr, writable: a.writable, pinned: a.pinned }));

describe('iommufd_fops_ioctl @ 6.12: the op->min_size of the five commands', () => {
  test.each([
    ['IOMMU_IOAS_ALLOW_IOVAS', iommu_ioas_allow_iovas, IOMMUFD_MINSZ.ioas_allow_iovas, 24],
    ['IOMMU_IOAS_COPY', iommu_ioas_copy, IOMMUFD_MINSZ.ioas_copy, 40],
    ['IOMMU_IOAS_IOVA_RANGES', iommu_ioas_iova_ranges, IOMMUFD_MINSZ.ioas_iova_ranges, 32],
    ['IOMMU_OPTION', iommu_option, IOMMUFD_MINSZ.option, 24],
    ['IOMMU_VFIO_IOAS', iommu_vfio_ioas, IOMMUFD_MINSZ.vfio_ioas, 12],
  ])(
    '%s: a size one below offsetofend of the last field EINVAL; the struct is %i bytes',
    (name, def, min, size) => {
      const f = vfioKernel('6.12');
      const m = iommufd(f);
      expect(def.size).toBe(size);
      expect(min).toBe(size);
      expect(call(f, m.fd, name, def, { size: BigInt(min - 1) }).r).toEqual(['EINVAL', 'iommufd_fops_ioctl']);
      // a bigger struct with a non-zero tail: copy_struct_from_user's E2BIG, before the op
      const b = new Uint8Array(size + 8);
      new DataView(b.buffer).setUint32(0, size + 8, true);
      b[size + 4] = 1;
      expect(site(iofd(f, m.fd, name, f.k.stage(f.p, b)))).toEqual(['E2BIG', 'copy_struct_from_user']);
    },
  );
});

describe('iommufd_ioas_allow_iovas @ 6.12', () => {
  test('__reserved EOPNOTSUPP before the IOAS lookup; an id that is no IOAS ENOENT', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(m.allow(99n, [], { __reserved: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_ioas_allow_iovas']);
    expect(m.allow(99n, []).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
    expect(m.allow(id, [[0x1000n, 0x1fffn]]).r).toEqual([0, null]);
    expect(m.ioasOf(id).allowed).toEqual([[0x1000n, 0x1fffn]]);
  });

  test('iommufd_ioas_load_iovas: EFAULT, start >= last EINVAL, an overlap with an earlier range EINVAL; the old tree stays', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(
      m.allow(id, [
        [0x40000000n, 0x4fffffffn],
        [0x10000000n, 0x1fffffffn],
      ]).r,
    ).toEqual([0, null]);
    const before = [
      [0x10000000n, 0x1fffffffn],
      [0x40000000n, 0x4fffffffn],
    ];
    expect(m.ioasOf(id).allowed).toEqual(before);
    // allowed_iovas NULL: copy_from_user of ranges[0]
    expect(m.allow(id, [[1n, 2n]], { allowed_iovas: 0n }).r).toEqual(['EFAULT', 'iommufd_ioas_load_iovas']);
    // a one-byte range has start == last: refused
    expect(m.allow(id, [[0x1000n, 0x1000n]]).r).toEqual(['EINVAL', 'iommufd_ioas_load_iovas']);
    expect(
      m.allow(id, [
        [0x1000n, 0x1fffn],
        [0x1800n, 0x2fffn],
      ]).r,
    ).toEqual(['EINVAL', 'iommufd_ioas_load_iovas']);
    // the second range is past the buffer's readable part: EFAULT after the first loaded
    // one page with nothing mapped above it: the range at its last 16 bytes, ranges[1] unreadable
    const page = guest(f, PAGE, 0x10000000n);
    const at = page + PAGE - 16n;
    const one = new Uint8Array(16);
    new DataView(one.buffer).setBigUint64(0, 0x1000n, true);
    new DataView(one.buffer).setBigUint64(8, 0x1fffn, true);
    expect(f.p.mm.writeUser(at, one)).toBe(true);
    expect(m.allow(id, [], { num_iovas: 0x100000n, allowed_iovas: at }).r).toEqual([
      'EFAULT',
      'iommufd_ioas_load_iovas',
    ]);
    expect(m.ioasOf(id).allowed).toEqual(before);
    // touching ranges are fine (they do not intersect)
    expect(
      m.allow(id, [
        [0x1000n, 0x1fffn],
        [0x2000n, 0x2fffn],
      ]).r,
    ).toEqual([0, null]);
    // zero ranges: the tree is emptied, every IOVA allowed again
    expect(m.allow(id, []).r).toEqual([0, null]);
    expect(m.ioasOf(id).allowed).toEqual([]);
  });

  test('iommufd_ioas_load_iovas: the kzalloc of each range -ENOMEM (fault points: the struct, then per range its copy and its kzalloc)', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    const two: [bigint, bigint][] = [
      [0x1000n, 0x1fffn],
      [0x4000n, 0x4fffn],
    ];
    expect(failing(f, 3, () => m.allow(id, two))).toEqual({
      r: ['ENOMEM', 'iommufd_ioas_load_iovas'],
      fired: 'iommufd_ioas_load_iovas: kzalloc allowed',
    });
    expect(failing(f, 5, () => m.allow(id, two))).toEqual({
      r: ['ENOMEM', 'iommufd_ioas_load_iovas'],
      fired: 'iommufd_ioas_load_iovas: kzalloc allowed',
    });
    expect(failing(f, 4, () => m.allow(id, two))).toEqual({
      r: ['EFAULT', 'iommufd_ioas_load_iovas'],
      fired: 'copy_from_user',
    });
    expect(m.ioasOf(id).allowed).toEqual([]);
  });

  test('iopt_alloc_iova keeps to the allowed ranges (first fitting span, first fitting hole); FIXED_IOVA does not; ENOSPC when none fits', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(
      m.allow(id, [
        [0x10000000n, 0x1fffffffn],
        [0x40000000n, 0x4fffffffn],
      ]).r,
    ).toEqual([0, null]);
    // no domain: nothing is pinned, the user address only guides the alignment (1 GiB aligned here)
    const va = 0x40000000n;
    expect(m.map(id, va, 0x1000n, 0n, RW)).toEqual({ r: [0, null], iova: 0x10000000n });
    // 256 MiB do not fit what is left of the first span: the second, aligned to HPAGE_SIZE
    expect(m.map(id, va, 0x10000000n, 0n, RW)).toEqual({ r: [0, null], iova: 0x40000000n });
    expect(m.map(id, va, 0x1000n, 0n, RW)).toEqual({ r: [0, null], iova: 0x10001000n });
    // a fixed IOVA outside the allowed ranges: iopt_check_iova does not look at them
    expect(m.map(id, va, 0x1000n, 0x100000n).r).toEqual([0, null]);
    expect(m.map(id, va, 0x20000000n, 0n, RW).r).toEqual(['ENOSPC', 'iopt_alloc_iova']);
    // the allowed tree emptied: allocation starts at PAGE_SIZE again
    expect(m.allow(id, []).r).toEqual([0, null]);
    expect(m.map(id, va, 0x1000n, 0n, RW)).toEqual({ r: [0, null], iova: 0x1000n });
  });

  test('iopt_set_allow_iova: a range over a reserved one (the MSI window, past the aperture) EADDRINUSE, the old tree kept', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(m.allow(id, [[0x10000000n, 0x1fffffffn]]).r).toEqual([0, null]);
    expect(m.attach(id)).toEqual([0, null]);
    expect(
      m.allow(id, [
        [0x1000n, 0x1fffn],
        [0xfee00000n, 0xfee00fffn],
      ]).r,
    ).toEqual(['EADDRINUSE', 'iopt_set_allow_iova']);
    expect(m.allow(id, [[0x7ffffff000n, 0x8000000fffn]]).r).toEqual(['EADDRINUSE', 'iopt_set_allow_iova']);
    expect(m.ioasOf(id).allowed).toEqual([[0x10000000n, 0x1fffffffn]]);
    // up to the last byte before the window is fine
    expect(m.allow(id, [[0xfed00000n, 0xfedfffffn]]).r).toEqual([0, null]);
  });

  test('iopt_reserve_iova: the first domain refuses an allowed range in the MSI window, then one past aperture_end (EADDRINUSE)', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(
      m.allow(id, [
        [0x8000000000n, 0x9000000000n],
        [0xfeef0000n, 0xfeefffffn],
      ]).r,
    ).toEqual([0, null]);
    expect(m.attach(id)).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    expect(m.allow(id, [[0x8000000000n, 0x9000000000n]]).r).toEqual([0, null]);
    expect(m.attach(id)).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    expect([...m.ctx().objects.values()].some((o) => o.type === 'hwpt')).toBe(false);
    expect(m.allow(id, [[0x7000000000n, 0x7fffffffffn]]).r).toEqual([0, null]);
    expect(m.attach(id)).toEqual([0, null]);
  });
});

describe('iommufd_ioas_copy @ 6.12', () => {
  test('unknown flags EOPNOTSUPP, then length / src_iova / dst_iova >= ULONG_MAX EOVERFLOW, then neither READABLE nor WRITEABLE EINVAL, then the IOAS', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const fn = 'iommufd_ioas_copy';
    expect(m.copy({ flags: 8n, length: ULONG_MAX }).r).toEqual(['EOPNOTSUPP', fn]);
    expect(m.copy({ flags: 0n, length: ULONG_MAX }).r).toEqual(['EOVERFLOW', fn]);
    expect(m.copy({ flags: RW, src_iova: ULONG_MAX }).r).toEqual(['EOVERFLOW', fn]);
    expect(m.copy({ flags: RW, dst_iova: ULONG_MAX }).r).toEqual(['EOVERFLOW', fn]);
    expect(m.copy({ flags: FIXED, src_ioas_id: 99n }).r).toEqual(['EINVAL', fn]);
    expect(m.copy({ flags: R, src_ioas_id: 99n }).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
  });

  test('iopt_get_pages: length 0 EINVAL, a wrapping range EOVERFLOW, a gap ENOENT; all before the destination IOAS is looked up', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const src = m.alloc();
    expect(m.map(src, 0x40000000n, 0x2000n, 0x100000n).r).toEqual([0, null]);
    expect(m.map(src, 0x50000000n, 0x1000n, 0x103000n).r).toEqual([0, null]);
    const c = (src_iova: bigint, length: bigint, dst = 99n) =>
      m.copy({ flags: RW, src_ioas_id: src, dst_ioas_id: dst, src_iova, length }).r;
    expect(c(0x100000n, 0n)).toEqual(['EINVAL', 'iopt_get_pages']);
    expect(c(ULONG_MAX - 0xfffn, 0x2000n)).toEqual(['EOVERFLOW', 'iopt_get_pages']);
    // nothing at the start, the hole at 0x102000 between the two areas, past the end of the second
    expect(c(0x0n, 0x1000n)).toEqual(['ENOENT', 'iopt_get_pages']);
    expect(c(0x101000n, 0x2000n)).toEqual(['ENOENT', 'iopt_get_pages']);
    expect(c(0x103000n, 0x2000n)).toEqual(['ENOENT', 'iopt_get_pages']);
    // what is there and contiguous: now the destination is looked up
    expect(c(0x101000n, 0x1000n)).toEqual(['ENOENT', 'iommufd_get_ioas']);
  });

  test('iopt_map_pages: the new areas share the iopt_pages; a slice per source area, contiguous from the IOVA; dst_iova written back', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const src = m.alloc();
    const dst = m.alloc();
    expect(m.map(src, 0x40000000n, 0x2000n, 0x100000n).r).toEqual([0, null]);
    expect(m.map(src, 0x50000000n, 0x3000n, 0x102000n).r).toEqual([0, null]);
    // across both areas: two slices, one of each
    const x = m.copy({
      flags: FIXED | R,
      src_ioas_id: src,
      dst_ioas_id: dst,
      src_iova: 0x101000n,
      length: 0x2000n,
      dst_iova: 0x7000n,
    });
    expect(x.r).toEqual([0, null]);
    expect(x.out.dst_iova).toBe(0x7000n);
    expect(areasOf(m.ioasOf(dst))).toEqual([
      { iova: 0x7000n, length: 0x1000n, uptr: 0x40001000n, writable: false, pinned: false },
      { iova: 0x8000n, length: 0x1000n, uptr: 0x50000000n, writable: false, pinned: false },
    ]);
    const [s0, s1] = [...m.ioasOf(src).areas].sort((a, b) => (a.iova < b.iova ? -1 : 1));
    const [d0, d1] = [...m.ioasOf(dst).areas].sort((a, b) => (a.iova < b.iova ? -1 : 1));
    expect(d0!.pages).toBe(s0!.pages);
    expect(d1!.pages).toBe(s1!.pages);
    // without FIXED_IOVA: iopt_alloc_iova from the first slice's user address (1 GiB + 4 KiB: 4 KiB)
    const y = m.copy({ flags: RW, src_ioas_id: src, dst_ioas_id: dst, src_iova: 0x101000n, length: 0x1000n });
    expect(y).toMatchObject({ r: [0, null], out: { dst_iova: 0x1000n } });
    // a copy within one IOAS
    expect(
      m.copy({
        flags: FIXED | RW,
        src_ioas_id: src,
        dst_ioas_id: src,
        src_iova: 0x100000n,
        length: 0x2000n,
        dst_iova: 0x200000n,
      }).r,
    ).toEqual([0, null]);
    expect(m.ioasOf(src).areas).toHaveLength(3);
    // the source IOAS can go: the copies keep the pages
    expect(m.unmap(src, 0n, ULONG_MAX)).toEqual([0, null]);
    expect(areasOf(m.ioasOf(dst))).toHaveLength(3);
  });

  test('iopt_insert_area: WRITEABLE over pages mapped read-only EPERM; READABLE alone is fine', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const src = m.alloc();
    const dst = m.alloc();
    expect(m.map(src, 0x40000000n, 0x1000n, 0x100000n, FIXED | R).r).toEqual([0, null]);
    const c = (flags: bigint) =>
      m.copy({
        flags,
        src_ioas_id: src,
        dst_ioas_id: dst,
        src_iova: 0x100000n,
        length: 0x1000n,
        dst_iova: 0x5000n,
      }).r;
    expect(c(FIXED | W)).toEqual(['EPERM', 'iopt_insert_area']);
    expect(c(FIXED | RW)).toEqual(['EPERM', 'iopt_insert_area']);
    expect(m.ioasOf(dst).areas).toEqual([]);
    expect(c(FIXED | R)).toEqual([0, null]);
  });

  test('iopt_alloc_area_pages / iopt_check_iova / iopt_insert_area in the destination: its alignment, reserved ranges and areas', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const src = m.alloc();
    const dst = m.alloc();
    guest(f, 0x200000n, 0x40000000n);
    // no domain in the source: alignment 1, a length off the page and a page offset map
    expect(m.map(src, 0x40000000n, 0x1800n, 0x100000n).r).toEqual([0, null]);
    expect(m.map(src, 0x40000010n, 0x1000n, 0x200000n).r).toEqual([0, null]);
    expect(m.attach(dst)).toEqual([0, null]);
    const c = (src_iova: bigint, length: bigint, dst_iova: bigint, flags = FIXED | RW) =>
      m.copy({ flags, src_ioas_id: src, dst_ioas_id: dst, src_iova, length, dst_iova }).r;
    expect(c(0x100000n, 0x1800n, 0x10000n)).toEqual(['EINVAL', 'iopt_alloc_area_pages']);
    expect(c(0x100000n, 0x1000n, 0x10010n)).toEqual(['EINVAL', 'iopt_check_iova']);
    expect(c(0x100000n, 0x1000n, 0xfee00000n)).toEqual(['EINVAL', 'iopt_check_iova']);
    expect(c(0x200000n, 0x1000n, 0x10000n)).toEqual(['EINVAL', 'iopt_insert_area']);
    expect(c(0x200000n, 0x1000n, 0n, RW)).toEqual(['EINVAL', 'iopt_alloc_iova']);
    expect(c(0x100000n, 0x1000n, 0x10000n)).toEqual([0, null]);
    expect(c(0x100000n, 0x1000n, 0x10000n)).toEqual(['EEXIST', 'iopt_check_iova']);
    // no domain: a range running off the end of the IOVA space
    expect(
      m.copy({
        flags: FIXED | RW,
        src_ioas_id: src,
        dst_ioas_id: src,
        src_iova: 0x100000n,
        length: 0x1000n,
        dst_iova: ULONG_MAX - 0x10n,
      }).r,
    ).toEqual(['EOVERFLOW', 'iopt_check_iova']);
  });

  test('iopt_get_pages kzalloc / iopt_area_alloc -ENOMEM and iommufd_ucmd_respond EFAULT (the areas stay)', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const src = m.alloc();
    const dst = m.alloc();
    expect(m.map(src, 0x40000000n, 0x1000n, 0x100000n).r).toEqual([0, null]);
    expect(m.map(src, 0x50000000n, 0x1000n, 0x101000n).r).toEqual([0, null]);
    const c = () =>
      m.copy({
        flags: FIXED | RW,
        src_ioas_id: src,
        dst_ioas_id: dst,
        src_iova: 0x100000n,
        length: 0x2000n,
        dst_iova: 0x5000n,
      });
    // point 1 is copy_struct_from_user; 2, 3 the two list entries; 4, 5 the two areas; 6 the copy-back
    expect(failing(f, 3, c)).toEqual({
      r: ['ENOMEM', 'iopt_get_pages'],
      fired: 'iopt_get_pages: kzalloc elm',
    });
    expect(failing(f, 5, c)).toEqual({
      r: ['ENOMEM', 'iopt_alloc_area_pages'],
      fired: 'iopt_alloc_area_pages: iopt_area_alloc kzalloc',
    });
    expect(m.ioasOf(dst).areas).toEqual([]);
    expect(failing(f, 6, c)).toEqual({ r: ['EFAULT', 'iommufd_ucmd_respond'], fired: 'copy_to_user' });
    expect(areasOf(m.ioasOf(dst)).map((a) => a.iova)).toEqual([0x5000n, 0x6000n]);
  });

  test('iopt_fill_domains_pages: pages shared with an area a domain maps are pinned and charged once (incr_user_locked_vm)', () => {
    const root = vfioKernel('6.12');
    const u = user(root);
    const m = iommufd(u, root);
    const src = m.alloc();
    const dst = m.alloc();
    const va = guest(u, 0x10000n);
    expect(m.map(src, va, 0x10000n, 0x100000n).r).toEqual([0, null]);
    expect(m.attach(dst)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(0n);
    const c = (src_iova: bigint, length: bigint, dst_iova: bigint) =>
      m.copy({ flags: FIXED | RW, src_ioas_id: src, dst_ioas_id: dst, src_iova, length, dst_iova }).r;
    // into the domain: the 16 pages are pinned now
    expect(c(0x100000n, 0x10000n, 0x200000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(16n);
    // the same pages again, and half of them: read from the domain, nothing more charged
    expect(c(0x100000n, 0x10000n, 0x300000n)).toEqual([0, null]);
    expect(c(0x108000n, 0x8000n, 0x400000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(16n);
    expect(m.ioasOf(dst).areas.every((a) => a.pinned && a.pages === m.ioasOf(src).areas[0]!.pages)).toBe(
      true,
    );
    // unpinned only when no area holds them any more
    expect(m.unmap(dst, 0x200000n, 0x10000n)).toEqual([0, null]);
    expect(m.unmap(dst, 0x300000n, 0x10000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(8n);
    // the source's own area was never pinned (no domain there): unmapping it changes nothing
    expect(m.unmap(src, 0x100000n, 0x10000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(8n);
    expect(m.unmap(dst, 0x400000n, 0x8000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(0n);
    expect(lockedPages(root.k, u.p.mm)).toBe(0n);
  });

  test('iopt_fill_domains_pages: the pin of the copy fails as a map would (RLIMIT_MEMLOCK ENOMEM, no memory EFAULT), nothing left mapped', () => {
    const root = vfioKernel('6.12');
    const u = user(root);
    const m = iommufd(u, root);
    const src = m.alloc();
    const dst = m.alloc();
    const va = guest(u, 0x1000000n);
    expect(m.map(src, va, 0x1000000n, 0x1000000n).r).toEqual([0, null]);
    expect(m.map(src, 0x600000000000n, 0x1000n, 0x100000n).r).toEqual([0, null]);
    expect(m.attach(dst)).toEqual([0, null]);
    const c = (src_iova: bigint, length: bigint) =>
      m.copy({ flags: FIXED | RW, src_ioas_id: src, dst_ioas_id: dst, src_iova, length, dst_iova: src_iova })
        .r;
    expect(c(0x1000000n, 0x1000000n)).toEqual(['ENOMEM', 'incr_user_locked_vm']);
    expect(c(0x100000n, 0x1000n)).toEqual(['EFAULT', 'pfn_reader_user_pin']);
    expect(m.ioasOf(dst).areas).toEqual([]);
    expect(userLockedPages(root.k)).toBe(0n);
    // exactly RLIMIT_MEMLOCK (8 MiB) is fine
    expect(c(0x1000000n, 0x800000n)).toEqual([0, null]);
    expect(userLockedPages(root.k)).toBe(0x800n);
  });
});

describe('iommufd_ioas_copy and iommufd_ioas_map @ 6.9 (before iommufd-map-needs-prot)', () => {
  test('neither READABLE nor WRITEABLE: the area is made (no IOMMU_READ, no IOMMU_WRITE)', () => {
    const f = vfioKernel('6.9');
    const m = iommufd(f);
    const src = m.alloc();
    expect(m.map(src, 0x40000000n, 0x1000n, 0x100000n, FIXED).r).toEqual([0, null]);
    expect(
      m.copy({
        flags: FIXED,
        src_ioas_id: src,
        dst_ioas_id: src,
        src_iova: 0x100000n,
        length: 0x1000n,
        dst_iova: 0x200000n,
      }).r,
    ).toEqual([0, null]);
    expect(areasOf(m.ioasOf(src)).map((a) => [a.iova, a.writable])).toEqual([
      [0x100000n, false],
      [0x200000n, false],
    ]);
  });

  test('iopt_alloc_iova: no HPAGE_SIZE cap before "Prevent ALIGN() overflow" (4 MiB from a 1 GiB aligned address lands 4 MiB aligned)', () => {
    for (const [v, iova] of [
      ['6.9', 0x400000n],
      ['6.12', 0x200000n],
    ] as const) {
      const f = vfioKernel(v);
      const m = iommufd(f);
      const id = m.alloc();
      expect(m.map(id, 0x40000000n, 0x1000n, 0n, RW)).toEqual({ r: [0, null], iova: 0x1000n });
      expect(m.map(id, 0x40000000n, 0x400000n, 0n, RW)).toEqual({ r: [0, null], iova });
    }
  });
});

describe('iommufd_ioas_iova_ranges @ 6.12', () => {
  test('__reserved EOPNOTSUPP, then the IOAS (ENOENT)', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    expect(m.ranges(1n, 4n, { __reserved: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_ioas_iova_ranges']);
    expect(m.ranges(1n, 4n).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
  });

  test('no domain: one range, the whole of the IOVA space, alignment 1; the allowed ranges do not show', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(m.allow(id, [[0x10000000n, 0x1fffffffn]]).r).toEqual([0, null]);
    const x = m.ranges(id, 3n);
    expect(x.r).toEqual([0, null]);
    expect(x.out).toMatchObject({ num_iovas: 1n, out_iova_alignment: 1n, ioas_id: id });
    expect(x.array[0]).toEqual({ start: 0n, last: ULONG_MAX });
    expect(x.array[1]).toEqual({ start: 0xaaaan, last: 0xbbbbn });
  });

  test('with the VT-d domain: the two holes around the MSI window up to the aperture end, alignment PAGE_SIZE; EMSGSIZE with num_iovas set to the needed count', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    expect(m.attach(id)).toEqual([0, null]);
    const all = m.ranges(id, 3n);
    expect(all.r).toEqual([0, null]);
    expect(all.out).toMatchObject({ num_iovas: 2n, out_iova_alignment: PAGE });
    expect(all.array.slice(0, 2)).toEqual(VTD_RANGES);
    // room for one: the first copied, the struct written back, then EMSGSIZE
    const one = m.ranges(id, 1n);
    expect(one.r).toEqual(['EMSGSIZE', 'iommufd_ioas_iova_ranges']);
    expect(one.out).toMatchObject({ num_iovas: 2n, out_iova_alignment: PAGE });
    expect(one.array).toEqual([
      VTD_RANGES[0],
      { start: 0xaaaan, last: 0xbbbbn },
      { start: 0xaaaan, last: 0xbbbbn },
    ]);
    // none: nothing copied, NULL is never touched
    const none = m.ranges(id, 0n, { allowed_iovas: 0n });
    expect(none.r).toEqual(['EMSGSIZE', 'iommufd_ioas_iova_ranges']);
    expect(none.out).toMatchObject({ num_iovas: 2n, out_iova_alignment: PAGE });
  });

  test('EFAULT copying a range: nothing written back; iommufd_ucmd_respond EFAULT', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    const bad = m.ranges(id, 1n, { allowed_iovas: 0n });
    expect(bad.r).toEqual(['EFAULT', 'iommufd_ioas_iova_ranges']);
    expect(bad.out).toMatchObject({ num_iovas: 1n, out_iova_alignment: 0n });
    expect(failing(f, 3, () => m.ranges(id, 1n))).toEqual({
      r: ['EFAULT', 'iommufd_ucmd_respond'],
      fired: 'copy_to_user',
    });
    expect(failing(f, 2, () => m.ranges(id, 1n))).toEqual({
      r: ['EFAULT', 'iommufd_ioas_iova_ranges'],
      fired: 'copy_to_user',
    });
  });
});

describe('iommufd_option @ 6.12', () => {
  test('__reserved EOPNOTSUPP, an unknown option_id EOPNOTSUPP', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    expect(m.opt({ option_id: 0n, op: 1n, __reserved: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_option']);
    expect(m.opt({ option_id: 2n, op: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_option']);
  });

  test('iommufd_option_rlimit_mode: GET is 0 on /dev/iommu, 1 on /dev/vfio/vfio (iommufd_fops_open); object_id EOPNOTSUPP; an unknown op EOPNOTSUPP', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const fn = 'iommufd_option_rlimit_mode';
    expect(m.opt({ option_id: 0n, op: 1n, val64: 7n })).toMatchObject({ r: [0, null], out: { val64: 0n } });
    expect(m.opt({ option_id: 0n, op: 1n, object_id: 1n }).r).toEqual(['EOPNOTSUPP', fn]);
    expect(m.opt({ option_id: 0n, op: 2n }).r).toEqual(['EOPNOTSUPP', fn]);
    const c = vfioKernel('6.12-iommufd-vfio-container');
    const mc = iommufd(c, c, '/dev/vfio/vfio');
    expect(mc.opt({ option_id: 0n, op: 1n })).toMatchObject({ r: [0, null], out: { val64: 1n } });
  });

  test('iommufd_option_rlimit_mode SET: CAP_SYS_RESOURCE (EPERM), then objects EBUSY (before the value), then the value EINVAL', () => {
    const root = vfioKernel('6.12');
    const fn = 'iommufd_option_rlimit_mode';
    const u = iommufd(user(root, ['CAP_IPC_LOCK']), root);
    expect(u.opt({ option_id: 0n, op: 0n, val64: 1n }).r).toEqual(['EPERM', fn]);
    const m = iommufd(root);
    expect(m.opt({ option_id: 0n, op: 0n, val64: 2n }).r).toEqual(['EINVAL', fn]);
    expect(m.opt({ option_id: 0n, op: 0n, val64: 1n })).toMatchObject({ r: [0, null], out: { val64: 1n } });
    expect(m.ctx().accountMode).toBe('mm');
    m.alloc();
    expect(m.opt({ option_id: 0n, op: 0n, val64: 2n }).r).toEqual(['EBUSY', fn]);
    expect(m.opt({ option_id: 0n, op: 0n, val64: 0n }).r).toEqual(['EBUSY', fn]);
    expect(m.ctx().accountMode).toBe('mm');
    expect(m.opt({ option_id: 0n, op: 1n })).toMatchObject({ r: [0, null], out: { val64: 1n } });
  });

  test('RLIMIT_MODE 1 makes the pages charge the mm (IOPT_PAGES_ACCOUNT_MM), not the user; the val64 copy-back EFAULT keeps the change', () => {
    const root = vfioKernel('6.12');
    const p = user(root, ['CAP_SYS_RESOURCE']);
    const m = iommufd(p, root);
    expect(failing(p, 2, () => m.opt({ option_id: 0n, op: 0n, val64: 1n }))).toEqual({
      r: ['EFAULT', 'iommufd_option'],
      fired: 'copy_to_user',
    });
    expect(m.ctx().accountMode).toBe('mm');
    const id = m.alloc();
    const va = guest(p, 0x4000n);
    expect(m.map(id, va, 0x4000n, 0x100000n).r).toEqual([0, null]);
    expect(m.attach(id)).toEqual([0, null]);
    expect(lockedPages(root.k, p.p.mm)).toBe(4n);
    expect(userLockedPages(root.k)).toBe(0n);
  });

  test('iommufd_ioas_option_huge_pages: the IOAS (ENOENT); GET 1; SET 0 raises the alignment to PAGE_SIZE, SET 1 drops it; another value EINVAL, another op EOPNOTSUPP', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const fn = 'iommufd_ioas_option_huge_pages';
    expect(m.opt({ option_id: 1n, op: 1n, object_id: 0n }).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
    const id = m.alloc();
    expect(m.opt({ option_id: 1n, op: 1n, object_id: id })).toMatchObject({
      r: [0, null],
      out: { val64: 1n },
    });
    expect(m.opt({ option_id: 1n, op: 0n, object_id: id, val64: 0n })).toMatchObject({
      r: [0, null],
      out: { val64: 0n },
    });
    expect(m.opt({ option_id: 1n, op: 1n, object_id: id })).toMatchObject({
      r: [0, null],
      out: { val64: 0n },
    });
    expect(m.ioasOf(id).disableLargePages).toBe(true);
    expect(m.ranges(id, 1n).out.out_iova_alignment).toBe(PAGE);
    expect(m.map(id, 0x40000000n, 0x1800n, 0x100000n).r).toEqual(['EINVAL', 'iopt_alloc_area_pages']);
    expect(m.opt({ option_id: 1n, op: 0n, object_id: id, val64: 2n }).r).toEqual(['EINVAL', fn]);
    expect(m.opt({ option_id: 1n, op: 2n, object_id: id }).r).toEqual(['EOPNOTSUPP', fn]);
    expect(m.opt({ option_id: 1n, op: 0n, object_id: id, val64: 1n })).toMatchObject({
      r: [0, null],
      out: { val64: 1n },
    });
    expect(m.ranges(id, 1n).out.out_iova_alignment).toBe(1n);
    expect(m.map(id, 0x40000000n, 0x1800n, 0x100000n).r).toEqual([0, null]);
  });

  test('iopt_disable_large_pages: an area off PAGE_SIZE EADDRINUSE (flag restored); a domain with areas EINVAL; a domain without areas is fine', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const id = m.alloc();
    const off = (object_id: bigint) => m.opt({ option_id: 1n, op: 0n, object_id, val64: 0n }).r;
    expect(m.map(id, 0x40000000n, 0x1800n, 0x100000n).r).toEqual([0, null]);
    expect(off(id)).toEqual(['EADDRINUSE', 'iopt_check_iova_alignment']);
    expect(m.ioasOf(id).disableLargePages).toBe(false);
    const d = m.alloc();
    expect(m.attach(d)).toEqual([0, null]);
    guest(f, PAGE, 0x40000000n);
    expect(m.map(d, 0x40000000n, 0x1000n, 0x100000n).r).toEqual([0, null]);
    expect(off(d)).toEqual(['EINVAL', 'iopt_disable_large_pages']);
    expect(m.unmap(d, 0x100000n, 0x1000n)).toEqual([0, null]);
    expect(off(d)).toEqual([0, null]);
    expect(off(d)).toEqual([0, null]);
  });
});

describe('iommufd_vfio_ioas @ 6.12', () => {
  test('__reserved EOPNOTSUPP; GET without a compat IOAS ENODEV; SET of no IOAS ENOENT; an unknown op EOPNOTSUPP', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const fn = 'iommufd_vfio_ioas';
    expect(m.vfio(0n, 0n, { __reserved: 1n }).r).toEqual(['EOPNOTSUPP', fn]);
    expect(m.vfio(0n).r).toEqual(['ENODEV', fn]);
    expect(m.vfio(1n, 5n).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
    expect(m.vfio(3n).r).toEqual(['EOPNOTSUPP', fn]);
    expect(m.ctx().vfioIoas).toBeNull();
  });

  test('SET picks the IOAS the VFIO compat ioctls use, GET reads its id, CLEAR forgets it (destroying nothing); a destroyed one is ENODEV', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const a = m.alloc();
    const b = m.alloc();
    const mapDma = (iova: bigint) =>
      site(
        io(
          f,
          m.fd,
          'VFIO_IOMMU_MAP_DMA',
          f.k.stage(
            f.p,
            encodeStruct(vfio_iommu_type1_dma_map, {
              argsz: 32n,
              flags: 3n,
              vaddr: 0x40000000n,
              iova,
              size: 0x1000n,
            }),
          ),
        ),
      );
    expect(mapDma(0x1000n)).toEqual(['ENODEV', 'iommufd_vfio_map_dma']);
    expect(m.vfio(1n, b).r).toEqual([0, null]);
    expect(m.vfio(0n)).toMatchObject({ r: [0, null], out: { ioas_id: b } });
    expect(mapDma(0x1000n)).toEqual([0, null]);
    expect(areasOf(m.ioasOf(b)).map((x) => x.iova)).toEqual([0x1000n]);
    expect(m.ioasOf(a).areas).toEqual([]);
    expect(m.vfio(1n, a).r).toEqual([0, null]);
    expect(mapDma(0x1000n)).toEqual([0, null]);
    expect(m.vfio(2n).r).toEqual([0, null]);
    expect(m.vfio(0n).r).toEqual(['ENODEV', 'iommufd_vfio_ioas']);
    expect(mapDma(0x2000n)).toEqual(['ENODEV', 'iommufd_vfio_map_dma']);
    expect(m.ctx().objects.size).toBe(2);
    // SET again, then IOMMU_DESTROY of it: get_compat_ioas finds nothing
    expect(m.vfio(1n, a).r).toEqual([0, null]);
    expect(m.unmap(a, 0n, ULONG_MAX)).toEqual([0, null]);
    expect(
      site(
        iofd(
          f,
          m.fd,
          'IOMMU_DESTROY',
          words(f, [
            [8n, 4],
            [a, 4],
          ]),
        ),
      ),
    ).toEqual([0, null]);
    expect(m.vfio(0n).r).toEqual(['ENODEV', 'iommufd_vfio_ioas']);
  });

  test('GET after VFIO_GROUP_SET_CONTAINER answers the auto-created compat IOAS; its copy-back EFAULT (iommufd_ucmd_respond)', () => {
    const f = vfioKernel('6.12-iommufd-vfio-container');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const m = iommufd(f, f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/8');
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, m.fd, true);
    expect(errnoOf(io(f, g, 'VFIO_GROUP_SET_CONTAINER', f.k.stage(f.p, b)))).toBe(0);
    expect(m.vfio(0n)).toMatchObject({ r: [0, null], out: { ioas_id: 1n } });
    expect(failing(f, 2, () => m.vfio(0n))).toEqual({
      r: ['EFAULT', 'iommufd_ucmd_respond'],
      fired: 'copy_to_user',
    });
  });
});
