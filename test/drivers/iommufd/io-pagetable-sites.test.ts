// The io_pagetable's refusals, each with the function the kernel decides it in
// (drivers/iommu/iommufd/io_pagetable.c, pages.c, hw_pagetable.c, device.c and mm/util.c @ 6.12):
// IOAS_MAP's page and area checks, what the first domain (a device attach) refuses and in which
// order, and the locked-memory limit in both accounting modes, which only bites once a domain
// exists to pin into.
import { describe, expect, test } from 'vitest';
import { lockedPages } from '../../../src/drivers/vfio/type1.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap } from '../../../src/uapi/vfio.js';
import {
  bindTo,
  errnoOf,
  getDeviceFd,
  io,
  ioasUnmap,
  iofd,
  open,
  setContainer,
  site,
  type VF,
  vfioKernel,
  words,
} from '../vfio/helpers.js';

const COMPAT = '6.12-iommufd-vfio-container';
const FIXED = 1n;
const RW = 6n; // IOMMU_IOAS_MAP_WRITEABLE | READABLE
const MIB = 0x100000n;
const ULONG_MAX = (1n << 64n) - 1n;

function guest(f: VF, size: bigint): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

/** /dev/iommu with one IOAS; 03:00.0 on vfio-pci (bound by root) and its cdev bound to the context */
function iommufd(f: VF, root: VF = f) {
  expect(bindTo(root, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
  const fd = open(f, '/dev/iommu');
  const a = words(f, [
    [12n, 4],
    [0n, 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(f, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
  const id = BigInt(new DataView(f.p.mm.copyFromUser(a + 8n, 4)!.buffer).getUint32(0, true));
  const dev = open(f, '/dev/vfio/devices/vfio0');
  const bind = words(f, [
    [16n, 4],
    [0n, 4],
    [BigInt(fd), 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(f, dev, 'VFIO_DEVICE_BIND_IOMMUFD', bind))).toBe(0);
  const map = (uptr: bigint, length: bigint, iova: bigint, flags = FIXED | RW) =>
    site(
      iofd(
        f,
        fd,
        'IOMMU_IOAS_MAP',
        words(f, [
          [40n, 4],
          [flags, 4],
          [id, 4],
          [0n, 4],
          [uptr, 8],
          [length, 8],
          [iova, 8],
        ]),
      ),
    );
  const unmap = (iova: bigint, length: bigint) => ioasUnmap(f, fd, id, iova, length);
  /** VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS: the auto domain, the IOAS's first */
  const attach = () =>
    site(
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
  return { fd, dev, map, unmap, attach };
}

/** the compat container (/dev/vfio/vfio) with group 8 in it; GET_DEVICE_FD makes the domain */
function compat(f: VF, root: VF = f) {
  expect(bindTo(root, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
  const c = open(f, '/dev/vfio/vfio');
  const g = open(f, '/dev/vfio/8');
  expect(errnoOf(setContainer(f, g, c))).toBe(0);
  const map = (vaddr: bigint, size: bigint, iova: bigint, fp: VF = f, cf = c) =>
    site(
      io(
        fp,
        cf,
        'VFIO_IOMMU_MAP_DMA',
        fp.k.stage(
          fp.p,
          encodeStruct(vfio_iommu_type1_dma_map, { argsz: 32n, flags: 3n, vaddr, iova, size }),
        ),
      ),
    );
  const unmap = (iova: bigint, size: bigint) => {
    const a = f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, iova, size }));
    const r = site(io(f, c, 'VFIO_IOMMU_UNMAP_DMA', a));
    return [...r, new DataView(f.p.mm.copyFromUser(a + 16n, 8)!.buffer).getBigUint64(0, true)];
  };
  const device = () => site(getDeviceFd(f, g, '0000:03:00.0'));
  return { c, g, map, unmap, device };
}

/** an unprivileged process (no CAP_IPC_LOCK) next to root on the same kernel */
function user(root: VF, name = 'user'): VF {
  return { k: root.k, p: root.k.spawn(name, new Set<string>()) };
}

describe('IOMMU_IOAS_MAP: the pages and the area @ 6.12', () => {
  test('iopt_alloc_pages: length 0 or above SIZE_MAX - PAGE_SIZE EINVAL, uptr + length wrapping EOVERFLOW', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    expect(m.map(0x10000n, 0n, 0x1000n)).toEqual(['EINVAL', 'iopt_alloc_pages']);
    // ULONG_MAX itself is iommufd_ioas_map's own EOVERFLOW; one below it is too long for a pages
    expect(m.map(0x10000n, ULONG_MAX, 0x1000n)).toEqual(['EOVERFLOW', 'iommufd_ioas_map']);
    expect(m.map(0x10000n, ULONG_MAX - 1n, 0x1000n)).toEqual(['EINVAL', 'iopt_alloc_pages']);
    // checked before any IOVA is chosen: the same without FIXED_IOVA
    expect(m.map(ULONG_MAX - 0xfffn, 0x2000n, 0x1000n)).toEqual(['EOVERFLOW', 'iopt_alloc_pages']);
    expect(m.map(ULONG_MAX - 0xfffn, 0x2000n, 0n, RW)).toEqual(['EOVERFLOW', 'iopt_alloc_pages']);
  });

  test('iopt_insert_area: with a domain, a page-aligned IOVA and length from a user address off the page EINVAL', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const va = guest(f, 2n * MIB);
    // no domain: alignment 1, any page offset is kept
    expect(m.map(va + 0x10n, 0x1000n, 0x100000n)).toEqual([0, null]);
    expect(m.unmap(0x100000n, 0x1000n)).toEqual([0, null]);
    expect(m.attach()).toEqual([0, null]);
    // iopt_alloc_area_pages (length) and iopt_check_iova (iova) pass; the page offset does not
    expect(m.map(va + 0x10n, 0x1000n, 0x100000n)).toEqual(['EINVAL', 'iopt_insert_area']);
    expect(m.map(va + 0x10n, 0x1000n, 0x100010n)).toEqual(['EINVAL', 'iopt_check_iova']);
    expect(m.map(va, 0x1000n, 0x100000n)).toEqual([0, null]);
  });

  test('iopt_check_iova: a wrapping range EOVERFLOW; an overlap EEXIST', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const va = guest(f, 2n * MIB);
    expect(m.map(va, 0x2000n, ULONG_MAX - 0xfffn)).toEqual(['EOVERFLOW', 'iopt_check_iova']);
    expect(m.map(va, 0x2000n, 0x10000n)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0x11000n)).toEqual(['EEXIST', 'iopt_check_iova']);
  });
});

describe('the first domain of an IOAS refuses what is mapped (iommufd_hwpt_paging_alloc @ 6.12)', () => {
  test('iopt_reserve_iova: an area in the MSI window EADDRINUSE, found before iopt_check_iova_alignment looks', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const va = guest(f, 2n * MIB);
    // no domain yet: alignment 1 and nothing reserved, both map
    expect(m.map(va + 0x10n, 0x10n, 0x1010n)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0xfee00000n)).toEqual([0, null]);
    // iommufd_hw_pagetable_attach reserves the device's regions before iopt_table_add_domain runs
    expect(m.attach()).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    expect(m.unmap(0xfee00000n, 0x1000n)).toEqual([0, null]);
    expect(m.attach()).toEqual(['EADDRINUSE', 'iopt_check_iova_alignment']);
  });

  test('iopt_check_iova_alignment before the aperture: an area off the page, then one past aperture_end, EADDRINUSE', () => {
    const f = vfioKernel('6.12');
    const m = iommufd(f);
    const va = guest(f, 2n * MIB);
    expect(m.map(va, 0x800n, 0x2000n)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0x8000000000n)).toEqual([0, null]);
    expect(m.attach()).toEqual(['EADDRINUSE', 'iopt_check_iova_alignment']);
    expect(m.unmap(0x2000n, 0x800n)).toEqual([0, null]);
    expect(m.attach()).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    expect(m.unmap(0x8000000000n, 0x1000n)).toEqual([0, null]);
    expect(m.attach()).toEqual([0, null]);
    // the domain's reserved ranges now refuse such maps at iopt_check_iova instead
    expect(m.map(va, 0x1000n, 0x8000000000n)).toEqual(['EINVAL', 'iopt_check_iova']);
    expect(m.map(va, 0x1000n, 0xfee00000n)).toEqual(['EINVAL', 'iopt_check_iova']);
  });

  test('compat GET_DEVICE_FD: the same order through vfio_df_group_open (the MSI window first)', () => {
    const f = vfioKernel(COMPAT);
    const m = compat(f);
    const va = guest(f, 2n * MIB);
    expect(m.map(va + 0x10n, 0x10n, 0x1010n)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0xfee00000n)).toEqual([0, null]);
    expect(m.device()).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    expect(m.unmap(0xfee00000n, 0x1000n)).toEqual([0, null, 0x1000n]);
    expect(m.device()).toEqual(['EADDRINUSE', 'iopt_check_iova_alignment']);
  });
});

describe('iopt_disable_large_pages and iopt_cut_iova (the compat SET_IOMMU(VFIO_TYPE1_IOMMU) @ 6.12)', () => {
  test('iopt_check_iova_alignment: an area off the page size EADDRINUSE; with a domain and areas EINVAL', () => {
    const f = vfioKernel(COMPAT);
    const m = compat(f);
    const va = guest(f, 2n * MIB);
    expect(m.map(va, 0x800n, 0x1000n)).toEqual([0, null]);
    expect(site(io(f, m.c, 'VFIO_SET_IOMMU', 1n))).toEqual(['EADDRINUSE', 'iopt_check_iova_alignment']);
    // the failure left large pages enabled: TYPE1v2 is fine, alignment is still 1
    expect(site(io(f, m.c, 'VFIO_SET_IOMMU', 3n))).toEqual([0, null]);
    expect(m.map(va + 0x10n, 0x10n, 0x3010n)).toEqual([0, null]);
    expect(m.unmap(0n, 0x4000n)).toEqual([0, null, 0x810n]);
    expect(m.device()[0]).toBeTypeOf('number');
    expect(m.map(va, 0x1000n, 0x1000n)).toEqual([0, null]);
    expect(site(io(f, m.c, 'VFIO_SET_IOMMU', 1n))).toEqual(['EINVAL', 'iopt_disable_large_pages']);
  });

  test('iopt_insert_area: after TYPE1 the page offset must be aligned even with no domain; iopt_area_split: a cut off the page EINVAL', () => {
    const f = vfioKernel(COMPAT);
    const m = compat(f);
    expect(site(io(f, m.c, 'VFIO_SET_IOMMU', 1n))).toEqual([0, null]);
    const va = guest(f, 2n * MIB);
    expect(m.map(va + 0x10n, 0x1000n, 0x1000n)).toEqual(['EINVAL', 'iopt_insert_area']);
    expect(m.map(va, 0x4000n, 0x10000n)).toEqual([0, null]);
    // the cut at iova + size - 1 = 0x107ff makes a new start at 0x10800: EINVAL, size not written back
    expect(m.unmap(0x10000n, 0x800n)).toEqual(['EINVAL', 'iopt_area_split', 0x800n]);
    // the cut before the start (iova - 1 = 0x117ff) the same
    expect(m.unmap(0x11800n, 0x800n)).toEqual(['EINVAL', 'iopt_area_split', 0x800n]);
    expect(m.unmap(0x11000n, 0x1000n)).toEqual([0, null, 0x1000n]);
  });
});

describe('locked memory: RLIMIT_MEMLOCK (8 MiB) once a domain pins @ 6.12', () => {
  test('incr_user_locked_vm: /dev/iommu charges the user (IOPT_PAGES_ACCOUNT_USER): at attach and at map', () => {
    const root = vfioKernel('6.12');
    const u = user(root);
    const m = iommufd(u, root);
    const va = guest(u, 16n * MIB);
    // no domain: nothing is pinned, 16 MiB maps
    expect(m.map(va, 16n * MIB, 0x1000000n)).toEqual([0, null]);
    // the first domain pins it all (iopt_fill_domain): the attach fails
    expect(m.attach()).toEqual(['ENOMEM', 'incr_user_locked_vm']);
    expect(m.unmap(0x1000000n, 16n * MIB)).toEqual([0, null]);
    expect(m.attach()).toEqual([0, null]);
    // exactly the limit is fine (new_pages > lock_limit), a page more is not
    expect(m.map(va, 8n * MIB, 0x1000000n)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0x2000000n)).toEqual(['ENOMEM', 'incr_user_locked_vm']);
    // the user's count, not the mm's: another process of the same user with its own mm is refused too
    const v = user(root, 'other');
    const fd = v.k.installFd(v.p, u.p.fds.get(m.fd)!);
    const vva = guest(v, MIB);
    const r = v.k.ioctl(
      v.p,
      fd,
      iommufdNr('IOMMU_IOAS_MAP'),
      words(v, [
        [40n, 4],
        [FIXED | RW, 4],
        [1n, 4],
        [0n, 4],
        [vva, 8],
        [0x1000n, 8],
        [0x3000000n, 8],
      ]),
    );
    expect(site(r)).toEqual(['ENOMEM', 'incr_user_locked_vm']);
    expect(lockedPages(root.k, u.p.mm)).toBe(0n);
    // unmapping gives the pages back (decr_user_locked_vm)
    expect(m.unmap(0x1000000n, 8n * MIB)).toEqual([0, null]);
    expect(m.map(va, 0x1000n, 0x2000000n)).toEqual([0, null]);
  });

  test('iopt_fill_domain: the areas pin in IOVA order, not in the order they were mapped', () => {
    const root = vfioKernel('6.12');
    const u = user(root);
    const m = iommufd(u, root);
    const va = guest(u, 16n * MIB);
    // mapped first, higher up: memory that is not there (EFAULT once pinned)
    expect(m.map(0x600000000000n, 0x1000n, 0x40000000n)).toEqual([0, null]);
    // mapped second, lower: more than RLIMIT_MEMLOCK
    expect(m.map(va, 16n * MIB, 0x1000000n)).toEqual([0, null]);
    expect(m.attach()).toEqual(['ENOMEM', 'incr_user_locked_vm']);
    expect(m.unmap(0x1000000n, 16n * MIB)).toEqual([0, null]);
    expect(m.attach()).toEqual(['EFAULT', 'pfn_reader_user_pin']);
  });

  test('__account_locked_vm: /dev/vfio/vfio charges the mm (IOPT_PAGES_ACCOUNT_MM): at GET_DEVICE_FD and at map', () => {
    const root = vfioKernel(COMPAT);
    const u = user(root);
    const m = compat(u, root);
    const va = guest(u, 16n * MIB);
    expect(m.map(va, 16n * MIB, 0n)).toEqual([0, null]);
    expect(m.device()).toEqual(['ENOMEM', '__account_locked_vm']);
    expect(lockedPages(u.k, u.p.mm)).toBe(0n);
    expect(m.unmap(0n, 16n * MIB)).toEqual([0, null, 16n * MIB]);
    expect(m.device()[0]).toBeTypeOf('number');
    expect(m.map(va, 8n * MIB, 0n)).toEqual([0, null]);
    expect(lockedPages(u.k, u.p.mm)).toBe(0x800n);
    expect(m.map(va, 0x1000n, 8n * MIB)).toEqual(['ENOMEM', '__account_locked_vm']);
    // the mm's count: another process, its own mm, maps through the same container
    const v = user(root, 'other');
    const c = v.k.installFd(v.p, u.p.fds.get(m.c)!);
    expect(m.map(guest(v, MIB), 0x1000n, 8n * MIB, v, c)).toEqual([0, null]);
    expect(lockedPages(v.k, v.p.mm)).toBe(1n);
    // root has CAP_IPC_LOCK: IOPT_PAGES_ACCOUNT_NONE, no limit and no charge
    const rc = root.k.installFd(root.p, u.p.fds.get(m.c)!);
    expect(m.map(guest(root, 16n * MIB), 16n * MIB, 0x10000000n, root, rc)).toEqual([0, null]);
    expect(lockedPages(root.k, root.p.mm)).toBe(0n);
  });
});
