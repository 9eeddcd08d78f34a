// The VFIO container provided by iommufd (drivers/iommu/iommufd/vfio_compat.c, io_pagetable.c,
// drivers/vfio/group.c at 6.12; vfio.md §5.7): the "6.12-iommufd-vfio-container" profile, and
// the same compat ioctls on /dev/iommu. Each test names the kernel function it pins and, where
// it differs, what the type1 container answers on "6.12".
import { describe, expect, test } from 'vitest';
import { lockedPages } from '../../../src/drivers/vfio/type1.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap } from '../../../src/uapi/vfio.js';
import {
  bindTo,
  errnoOf,
  getDeviceFd,
  groupFlags,
  io,
  open,
  setContainer,
  type VF,
  vfioKernel,
} from '../vfio/helpers.js';

const COMPAT = '6.12-iommufd-vfio-container';
const R = 1n;
const W = 2n;
const VADDR = 4n;
const TYPE1 = 1n;
const TYPE1V2 = 3n;
const DMA_CC = 4n;
const NESTING = 6n;
const UNMAP_ALL = 9n;
const UPDATE_VADDR = 10n;

function guest(f: VF, size = 0x200000n): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

function map(
  f: VF,
  c: number,
  m: { flags: bigint; vaddr: bigint; iova: bigint; size: bigint; argsz?: bigint },
) {
  const a = f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_map, { argsz: 32n, ...m }));
  return errnoOf(io(f, c, 'VFIO_IOMMU_MAP_DMA', a));
}

/** the errno (or 0) and the size field read back afterwards */
function unmap(f: VF, c: number, u: { iova: bigint; size: bigint; flags?: bigint }): [unknown, bigint] {
  const a = f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, ...u }), 0x100n);
  const r = errnoOf(io(f, c, 'VFIO_IOMMU_UNMAP_DMA', a));
  return [r, new DataView(f.p.mm.copyFromUser(a + 16n, 8)!.buffer).getBigUint64(0, true)];
}

/** GET_INFO with `argsz`; the buffer is 4 KiB of 0xee so untouched bytes show */
function info(f: VF, c: number, argsz: number): { r: unknown; v: DataView } {
  const b = new Uint8Array(256).fill(0xee);
  new DataView(b.buffer).setUint32(0, argsz, true);
  const a = f.k.stage(f.p, b, 0x200n);
  const r = errnoOf(io(f, c, 'VFIO_IOMMU_GET_INFO', a));
  return { r, v: new DataView(f.p.mm.copyFromUser(a, 256)!.buffer) };
}

/** 03:00.0 (group 8) bound to vfio-pci, the compat container and the group attached to it */
function compat(version = COMPAT, path = '/dev/vfio/vfio'): VF & { c: number; g: number } {
  const f = vfioKernel(version);
  expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
  const c = open(f, path);
  const g = open(f, '/dev/vfio/8');
  expect(errnoOf(setContainer(f, g, c))).toBe(0);
  return { ...f, c, g };
}

describe('iommufd provides /dev/vfio/vfio (CONFIG_IOMMUFD_VFIO_CONTAINER)', () => {
  test('iommufd_fops_open: /dev/vfio/vfio is an iommufd context; the type1 build keeps its container', () => {
    const f = vfioKernel(COMPAT);
    const c = open(f, '/dev/vfio/vfio');
    expect(f.p.fds.get(c)!.ops.kind).toBe('iommufd');
    const t = vfioKernel('6.12');
    expect(t.p.fds.get(open(t, '/dev/vfio/vfio'))!.ops.kind).toBe('vfio-container');
  });

  test('iommufd_vfio_check_extension: TYPE1, TYPE1v2, UNMAP_ALL 1; UPDATE_VADDR, NESTING 0 (type1: NESTING 1)', () => {
    const f = vfioKernel(COMPAT);
    const c = open(f, '/dev/vfio/vfio');
    const ext = (x: bigint) => errnoOf(io(f, c, 'VFIO_CHECK_EXTENSION', x));
    expect([TYPE1, TYPE1V2, UNMAP_ALL, UPDATE_VADDR, NESTING, 8n, 99n].map(ext)).toEqual([
      1, 1, 1, 0, 0, 0, 0,
    ]);
    const t = vfioKernel('6.12');
    const tc = open(t, '/dev/vfio/vfio');
    expect(errnoOf(io(t, tc, 'VFIO_CHECK_EXTENSION', NESTING))).toBe(1);
  });

  test('iommufd_vfio_cc_iommu: ENODEV before a group (type1: 0), 1 on the bare IOAS, 0 once the VT-d domain exists', () => {
    const f = vfioKernel(COMPAT);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    expect(errnoOf(io(f, c, 'VFIO_CHECK_EXTENSION', DMA_CC))).toBe('ENODEV');
    const g = open(f, '/dev/vfio/8');
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    expect(errnoOf(io(f, c, 'VFIO_CHECK_EXTENSION', DMA_CC))).toBe(1);
    expect(typeof errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('number');
    expect(errnoOf(io(f, c, 'VFIO_CHECK_EXTENSION', DMA_CC))).toBe(0);
    const t = vfioKernel('6.12');
    expect(errnoOf(io(t, open(t, '/dev/vfio/vfio'), 'VFIO_CHECK_EXTENSION', DMA_CC))).toBe(0);
  });

  test('iommufd_vfio_set_iommu: ENODEV before a group (type1: EINVAL), EINVAL for other types, repeatable (type1: EINVAL)', () => {
    const f = vfioKernel(COMPAT);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe('ENODEV');
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', UNMAP_ALL))).toBe('EINVAL');
    const g = open(f, '/dev/vfio/8');
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 8n))).toBe('EINVAL');
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    const t = vfioKernel('6.12');
    expect(bindTo(t, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const tc = open(t, '/dev/vfio/vfio');
    expect(errnoOf(io(t, tc, 'VFIO_SET_IOMMU', TYPE1V2))).toBe('EINVAL');
    expect(errnoOf(setContainer(t, open(t, '/dev/vfio/8'), tc))).toBe(0);
    expect(errnoOf(io(t, tc, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    expect(errnoOf(io(t, tc, 'VFIO_SET_IOMMU', TYPE1V2))).toBe('EINVAL');
  });

  test('iommufd_vfio_map_dma: argsz / VADDR EINVAL, ENODEV before a group, flags 0 accepted, EEXIST', () => {
    const f = vfioKernel(COMPAT);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const va = guest(f);
    expect(map(f, c, { flags: R, vaddr: va, iova: 0n, size: 0x1000n, argsz: 31n })).toBe('EINVAL');
    expect(map(f, c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x1000n })).toBe('EINVAL');
    expect(map(f, c, { flags: R, vaddr: va, iova: 0n, size: 0x1000n })).toBe('ENODEV');
    expect(errnoOf(setContainer(f, open(f, '/dev/vfio/8'), c))).toBe(0);
    expect(map(f, c, { flags: 0n, vaddr: va, iova: 0x100000n, size: 0x1000n })).toBe(0);
    expect(map(f, c, { flags: R | W, vaddr: va, iova: 0x100000n, size: 0x2000n })).toBe('EEXIST');
    expect(map(f, c, { flags: R, vaddr: va, iova: 0x100000n, size: 0n })).toBe('EINVAL');
  });

  test('iopt_check_iova: before GET_DEVICE_FD the IOAS has no domain, so alignment is 1 and the MSI window is free', () => {
    const { k, p, c, g } = compat();
    const f = { k, p };
    const va = guest(f);
    // type1 would say EINVAL for both: 4 KiB alignment and the reserved 0xfee00000 window
    expect(map(f, c, { flags: R, vaddr: va + 0x10n, iova: 0x1010n, size: 0x10n })).toBe(0);
    expect(map(f, c, { flags: R, vaddr: va, iova: 0xfee00000n, size: 0x1000n })).toBe(0);
    // the first domain (iopt_table_add_domain) refuses both: GET_DEVICE_FD fails
    expect(errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('EADDRINUSE');
    expect(unmap(f, c, { iova: 0x1000n, size: 0x1000n })).toEqual([0, 0x10n]);
    expect(errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('EADDRINUSE');
    expect(unmap(f, c, { iova: 0xfee00000n, size: 0x1000n })).toEqual([0, 0x1000n]);
    expect(typeof errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('number');
    // with the domain: PAGE_SIZE alignment and the MSI window reserved (EINVAL, as type1)
    expect(map(f, c, { flags: R, vaddr: va, iova: 0x1010n, size: 0x1000n })).toBe('EINVAL');
    expect(map(f, c, { flags: R, vaddr: va, iova: 0xfee00000n, size: 0x1000n })).toBe('EINVAL');
    expect(map(f, c, { flags: R, vaddr: va, iova: 0x8000000000n, size: 0x1000n })).toBe('EINVAL');
  });

  test('iommufd_vfio_unmap_dma: a bisected mapping ENOENT with size written back (type1: EINVAL, untouched)', () => {
    for (const version of [COMPAT, '6.12']) {
      const f = vfioKernel(version);
      expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
      const c = open(f, '/dev/vfio/vfio');
      const g = open(f, '/dev/vfio/8');
      expect(errnoOf(setContainer(f, g, c))).toBe(0);
      expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
      const va = guest(f);
      expect(map(f, c, { flags: R | W, vaddr: va, iova: 0n, size: 0x200000n })).toBe(0);
      expect(map(f, c, { flags: R | W, vaddr: va, iova: 0x400000n, size: 0x1000n })).toBe(0);
      // the range holds all of 0x400000 and half of the 2 MiB one: the first is unmapped first
      if (version === COMPAT) {
        expect(unmap(f, c, { iova: 0x100000n, size: 0x400000n })).toEqual(['ENOENT', 0n]);
        expect(unmap(f, c, { iova: 0x300000n, size: 0x200000n })).toEqual([0, 0x1000n]);
      } else {
        expect(unmap(f, c, { iova: 0x100000n, size: 0x400000n })).toEqual(['EINVAL', 0x400000n]);
      }
      // FLAG_ALL: type1 still has both, the compat IOAS lost the small one above
      const left = version === COMPAT ? 0x200000n : 0x201000n;
      expect(unmap(f, c, { iova: 0n, size: 0n, flags: 2n })).toEqual([0, left]);
    }
  });

  test('iommufd_vfio_unmap_dma: only FLAG_ALL, which wants iova and size 0; VADDR and DIRTY_BITMAP EINVAL', () => {
    const { k, p, c } = compat();
    const f = { k, p };
    expect(unmap(f, c, { iova: 0n, size: 0n, flags: 4n })).toEqual(['EINVAL', 0n]);
    expect(unmap(f, c, { iova: 0n, size: 0n, flags: 1n })).toEqual(['EINVAL', 0n]);
    expect(unmap(f, c, { iova: 0x1000n, size: 0n, flags: 2n })).toEqual(['EINVAL', 0n]);
    expect(unmap(f, c, { iova: 0n, size: 0x1000n, flags: 2n })).toEqual(['EINVAL', 0x1000n]);
    expect(unmap(f, c, { iova: 0n, size: 0n, flags: 2n })).toEqual([0, 0n]);
    // iopt_unmap_iova: length 0 EINVAL, still written back (0)
    expect(unmap(f, c, { iova: 0x1000n, size: 0n })).toEqual(['EINVAL', 0n]);
  });

  test('iopt_unmap_iova_range: nothing mapped is 0 on 6.12 (afb47765f923, stable 6.12.59), ENOENT with size 0 on 6.6', () => {
    const now = compat();
    expect(unmap(now, now.c, { iova: 0x500000n, size: 0x1000n })).toEqual([0, 0n]);
    // 6.6 has no CONFIG_IOMMUFD_VFIO_CONTAINER profile; /dev/iommu answers the same ioctls
    const old = compat('6.6', '/dev/iommu');
    expect(unmap(old, old.c, { iova: 0x500000n, size: 0x1000n })).toEqual(['ENOENT', 0n]);
    // unmap-all of nothing was success in both (iopt_unmap_all turned ENOENT into 0)
    expect(unmap(old, old.c, { iova: 0n, size: 0n, flags: 2n })).toEqual([0, 0n]);
  });

  test('iommufd_vfio_set_iommu(VFIO_TYPE1_IOMMU): iopt_disable_large_pages lets a v1 unmap split (iopt_cut_iova)', () => {
    const { k, p, c, g } = compat();
    const f = { k, p };
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1))).toBe(0);
    expect(typeof errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('number');
    const va = guest(f);
    expect(map(f, c, { flags: R | W, vaddr: va, iova: 0n, size: 0x200000n })).toBe(0);
    expect(unmap(f, c, { iova: 0x1000n, size: 0x1000n })).toEqual([0, 0x1000n]);
    expect(unmap(f, c, { iova: 0x800n, size: 0x1000n })).toEqual(['EINVAL', 0x1000n]);
    expect(unmap(f, c, { iova: 0n, size: 0x200000n })).toEqual([0, 0x1ff000n]);
    // TYPE1 after mappings exist in a domain: "Won't do it if domains already have pages mapped"
    expect(map(f, c, { flags: R, vaddr: va, iova: 0n, size: 0x1000n })).toBe(0);
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', TYPE1))).toBe(0);
    const v2 = compat();
    expect(typeof errnoOf(getDeviceFd(v2, v2.g, '0000:03:00.0'))).toBe('number');
    expect(map(v2, v2.c, { flags: R, vaddr: guest(v2), iova: 0n, size: 0x1000n })).toBe(0);
    expect(errnoOf(io(v2, v2.c, 'VFIO_SET_IOMMU', TYPE1))).toBe('EINVAL');
  });

  test('iommufd_vfio_iommu_get_info: DMA_AVAIL U32_MAX then IOVA_RANGE, argsz always the total, min(argsz, 24) copied', () => {
    const { k, p, c, g } = compat();
    const f = { k, p };
    const big = info(f, c, 200);
    expect(big.r).toBe(0);
    // argsz 200 comes back as 72 (type1 leaves a large enough argsz alone)
    expect([big.v.getUint32(0, true), big.v.getUint32(4, true), big.v.getUint32(16, true)]).toEqual([
      72, 3, 24,
    ]);
    expect(big.v.getBigUint64(8, true)).toBe(0xfffffffffffff000n);
    expect([big.v.getUint16(24, true), big.v.getUint32(28, true), big.v.getUint32(32, true)]).toEqual([
      3, 40, 0xffffffff,
    ]);
    expect([big.v.getUint16(40, true), big.v.getUint32(48, true)]).toEqual([1, 1]);
    expect([big.v.getBigUint64(56, true), big.v.getBigUint64(64, true)]).toEqual([0n, (1n << 64n) - 1n]);
    // argsz 16: 16 bytes back, cap_offset's bytes untouched
    const min = info(f, c, 16);
    expect([min.v.getUint32(0, true), min.v.getUint32(16, true)]).toEqual([72, 0xeeeeeeee]);
    // argsz 40: DMA_AVAIL written, its next linked (argsz reaches 40), IOVA_RANGE not; cap_offset 0
    const part = info(f, c, 40);
    expect([part.v.getUint32(0, true), part.v.getUint32(16, true), part.v.getUint32(28, true)]).toEqual([
      72, 0, 40,
    ]);
    expect(part.v.getUint16(40, true)).toBe(0xeeee);
    expect(errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBeTypeOf('number');
    const dom = info(f, c, 200);
    expect([dom.v.getUint32(0, true), dom.v.getUint32(48, true)]).toEqual([88, 2]);
    expect(dom.v.getBigUint64(8, true)).toBe(0x40201000n);
    expect(info(f, c, 15).r).toBe('EINVAL');
  });

  test('iommufd_vfio_ioctl: VFIO_IOMMU_DIRTY_PAGES and unknown requests ENOTTY (-ENOIOCTLCMD)', () => {
    const { k, p, c } = compat();
    const f = { k, p };
    expect(errnoOf(io(f, c, 'VFIO_IOMMU_DIRTY_PAGES', f.k.scratch(f.p)))).toBe('ENOTTY');
    expect(errnoOf(f.k.ioctl(f.p, c, 0x3b7f, 0n))).toBe('ENOTTY');
    expect(errnoOf(io(f, c, 'VFIO_GET_API_VERSION'))).toBe(0);
  });

  test('vfio_group_ioctl_set_container: the first group makes the compat IOAS, a second reuses it; EINVAL twice', () => {
    const { k, p, c, g } = compat();
    const f = { k, p };
    expect(groupFlags(f, g)).toBe(3);
    expect(errnoOf(setContainer(f, g, c))).toBe('EINVAL');
    expect(bindTo(f, '0000:00:06.0', 'vfio-pci').ok).toBe(true);
    const g4 = open(f, '/dev/vfio/4');
    expect(errnoOf(setContainer(f, g4, c))).toBe(0);
    const ictx = f.p.fds.get(c)!.priv as { objects: Map<number, { type: string }> };
    expect([...ictx.objects.values()].filter((o) => o.type === 'ioas')).toHaveLength(1);
    // both devices attach to that one IOAS: mappings made once serve both
    expect(typeof errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('number');
    expect(typeof errnoOf(getDeviceFd(f, g4, '0000:00:06.0'))).toBe('number');
  });

  test('vfio_group_ioctl_unset_container: an iommufd leaves without the busy check (type1: EBUSY with a device open)', () => {
    const { k, p, c, g } = compat();
    const f = { k, p };
    const dev = errnoOf(getDeviceFd(f, g, '0000:03:00.0'));
    expect(typeof dev).toBe('number');
    expect(errnoOf(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toBe(0);
    expect(groupFlags(f, g)).toBe(0);
    expect(errnoOf(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toBe('EINVAL');
    // the device keeps its own binding: the context outlives the closed /dev/vfio/vfio fd
    f.k.close(f.p, c);
    f.k.close(f.p, dev as number);
    expect(groupFlags(f, g)).toBe(1);
  });

  test('vfio_df_group_open: the DMA-ownership claim is at GET_DEVICE_FD, not SET_CONTAINER (type1: SET_CONTAINER EPERM)', () => {
    const f = vfioKernel(COMPAT);
    expect(bindTo(f, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(f, '0000:01:00.1', 'uio_pci_generic').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/6');
    expect(groupFlags(f, g)).toBe(0);
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    expect(groupFlags(f, g)).toBe(3);
    expect(errnoOf(getDeviceFd(f, g, '0000:01:00.0'))).toBe('EPERM');
    const t = vfioKernel('6.12');
    expect(bindTo(t, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(t, '0000:01:00.1', 'uio_pci_generic').ok).toBe(true);
    expect(errnoOf(setContainer(t, open(t, '/dev/vfio/6'), open(t, '/dev/vfio/vfio')))).toBe('EPERM');
  });

  test('vfio_df_group_open: GET_DEVICE_FD needs no SET_IOMMU (type1: EINVAL) and leaves container_users at 0', () => {
    const { k, p, g } = compat();
    const f = { k, p };
    expect(typeof errnoOf(getDeviceFd(f, g, '0000:03:00.0'))).toBe('number');
    expect(f.k.profile.has('iommufd-vfio-container')).toBe(true);
    const t = vfioKernel('6.12');
    expect(bindTo(t, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const tg = open(t, '/dev/vfio/8');
    expect(errnoOf(setContainer(t, tg, open(t, '/dev/vfio/vfio')))).toBe(0);
    expect(errnoOf(getDeviceFd(t, tg, '0000:03:00.0'))).toBe('EINVAL');
  });

  test('update_mm_locked_vm: /dev/vfio/vfio charges mm->locked_vm (IOPT_PAGES_ACCOUNT_MM) once a domain pins', () => {
    const f = vfioKernel(COMPAT);
    const p = f.k.spawn('vmm', new Set<string>());
    const u: VF = { k: f.k, p };
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(u, '/dev/vfio/vfio');
    const g = open(u, '/dev/vfio/8');
    expect(errnoOf(setContainer(u, g, c))).toBe(0);
    const va = guest(u, 0x1000000n);
    // no domain yet: nothing is pinned, so even 16 MiB over the 8 MiB limit maps
    expect(map(u, c, { flags: R | W, vaddr: va, iova: 0n, size: 0x1000000n })).toBe(0);
    expect(lockedPages(u.k, p.mm)).toBe(0n);
    // the first domain pins it all: ENOMEM from GET_DEVICE_FD
    expect(errnoOf(getDeviceFd(u, g, '0000:03:00.0'))).toBe('ENOMEM');
    expect(unmap(u, c, { iova: 0n, size: 0x1000000n })).toEqual([0, 0x1000000n]);
    expect(typeof errnoOf(getDeviceFd(u, g, '0000:03:00.0'))).toBe('number');
    expect(map(u, c, { flags: R | W, vaddr: va, iova: 0n, size: 0x800000n })).toBe(0);
    expect(lockedPages(u.k, p.mm)).toBe(0x800n);
    expect(map(u, c, { flags: R, vaddr: va, iova: 0x800000n, size: 0x1000n })).toBe('ENOMEM');
    expect(unmap(u, c, { iova: 0n, size: 0n, flags: 2n })).toEqual([0, 0x800000n]);
    expect(lockedPages(u.k, p.mm)).toBe(0n);
  });
});
