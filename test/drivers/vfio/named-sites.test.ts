// Errno sites no other test pinned, each with the function the kernel decides it in @ 6.12
// (drivers/iommu/iommufd/io_pagetable.c, drivers/iommu/iommu.c, drivers/vfio/vfio_iommu_type1.c,
// fs/kernfs/file.c): iopt_alloc_iova's overflow guard and its no-hole ENOSPC, iopt_unmap_iova's
// length and wrap checks, the DMA-ownership refusals of iommufd bind and driver probe, and type1's
// attach while a vaddr is invalid.
import { describe, expect, test } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import {
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
} from '../../../src/uapi/vfio.js';
import {
  attached,
  bindTo,
  errnoOf,
  io,
  ioasUnmap,
  iofd,
  open,
  setContainer,
  site,
  type VF,
  vfioKernel,
  words,
} from './helpers.js';

const ULONG_MAX = (1n << 64n) - 1n;
const RW = 6n; // IOMMU_IOAS_MAP_WRITEABLE | READABLE
const FIXED = 1n;

/** /dev/iommu with one IOAS, no device: the fd and the IOAS id */
function ctxWithIoas(f: VF): { fd: number; id: bigint } {
  const fd = open(f, '/dev/iommu');
  const a = words(f, [
    [12n, 4],
    [0n, 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(f, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
  return { fd, id: BigInt(new DataView(f.p.mm.copyFromUser(a + 8n, 4)!.buffer).getUint32(0, true)) };
}

const ioasMap = (f: VF, fd: number, id: bigint, uptr: bigint, length: bigint, iova = 0n, flags = RW) =>
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

/** VFIO_DEVICE_BIND_IOMMUFD of a cdev to an iommufd */
const bindIommufd = (f: VF, dev: number, ictx: number) =>
  site(
    iofd(
      f,
      dev,
      'VFIO_DEVICE_BIND_IOMMUFD',
      words(f, [
        [16n, 4],
        [0n, 4],
        [BigInt(ictx), 4],
        [0n, 4],
      ]),
    ),
  );

describe('iopt_alloc_iova @ 6.12 (IOMMU_IOAS_MAP without FIXED_IOVA)', () => {
  test('iopt_alloc_iova: length >= ULONG_MAX / 2 EOVERFLOW (the roundup_pow_of_two guard), past iommufd_ioas_map and iopt_alloc_pages', () => {
    const f = vfioKernel('6.12');
    const { fd, id } = ctxWithIoas(f);
    const r = iofd(
      f,
      fd,
      'IOMMU_IOAS_MAP',
      words(f, [
        [40n, 4],
        [RW, 4],
        [id, 4],
        [0n, 4],
        [0x1000n, 8],
        [1n << 63n, 8],
        [0n, 8],
      ]),
    );
    expect(site(r)).toEqual(['EOVERFLOW', 'iopt_alloc_iova']);
    expect(r.ok === false && r.site.check).toBe('length == 0 || length >= ULONG_MAX / 2');
    // one page less is below ULONG_MAX / 2: it fits the empty IOAS
    expect(ioasMap(f, fd, id, 0x1000n, (1n << 63n) - 0x1000n)).toEqual([0, null]);
  });

  test('iopt_alloc_iova: no hole of [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] fits the length, ENOSPC', () => {
    const f = vfioKernel('6.12');
    const { fd, id } = ctxWithIoas(f);
    // a FIXED_IOVA area over the lower half: [0x1000, 2^63 + 0xfff]
    expect(ioasMap(f, fd, id, 0x1000n, 1n << 63n, 0x1000n, RW | FIXED)).toEqual([0, null]);
    // the hole left, [2^63 + 0x1000, ULONG_MAX - PAGE_SIZE], is 2^63 - 0x2000 bytes
    const r = iofd(
      f,
      fd,
      'IOMMU_IOAS_MAP',
      words(f, [
        [40n, 4],
        [RW, 4],
        [id, 4],
        [0n, 4],
        [0x1000n, 8],
        [(1n << 63n) - 0x1000n, 8],
        [0n, 8],
      ]),
    );
    expect(site(r)).toEqual(['ENOSPC', 'iopt_alloc_iova']);
    // exactly the hole's size fits, at its start
    expect(ioasMap(f, fd, id, 0x1000n, (1n << 63n) - 0x2000n)).toEqual([0, null]);
  });
});

describe('iopt_unmap_iova @ 6.12 (IOMMU_IOAS_UNMAP of a range)', () => {
  test('iopt_unmap_iova: length 0 EINVAL; iova + length - 1 wrapping EOVERFLOW (each below ULONG_MAX, so past iommufd_ioas_unmap)', () => {
    const f = vfioKernel('6.12');
    const { fd, id } = ctxWithIoas(f);
    expect(ioasMap(f, fd, id, 0x1000n, 0x1000n, 0x1000n, RW | FIXED)).toEqual([0, null]);
    expect(ioasUnmap(f, fd, id, 0x1000n, 0n)).toEqual(['EINVAL', 'iopt_unmap_iova']);
    expect(ioasUnmap(f, fd, id, 1n << 63n, (1n << 63n) + 1n)).toEqual(['EOVERFLOW', 'iopt_unmap_iova']);
    // ending exactly at ULONG_MAX does not wrap: the walk runs, nothing there ENOENT
    expect(ioasUnmap(f, fd, id, 1n << 63n, 1n << 63n)).toEqual(['ENOENT', 'iommufd_ioas_unmap']);
    // iova 0 with length ULONG_MAX is unmap-all, not a wrap
    expect(ioasUnmap(f, fd, id, 0n, ULONG_MAX)).toEqual([0, null]);
  });
});

describe('DMA ownership @ 6.12 (drivers/iommu/iommu.c)', () => {
  test('iommu_device_claim_dma_owner: a group another iommufd owns EPERM; a kernel DMA user in the group EPERM', () => {
    const f = vfioKernel('6.12');
    expect(bindTo(f, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
    const a = open(f, '/dev/iommu');
    const b = open(f, '/dev/iommu');
    const d0 = open(f, '/dev/vfio/devices/vfio0');
    const d1 = open(f, '/dev/vfio/devices/vfio1');
    expect(bindIommufd(f, d0, a)).toEqual([0, null]);
    // group 6's owner is context a: context b may not claim 01:00.1
    expect(bindIommufd(f, d1, b)).toEqual(['EPERM', 'iommu_device_claim_dma_owner']);
    // the owner's own context may (owner_cnt++)
    expect(bindIommufd(f, d1, a)).toEqual([0, null]);

    // group 6 again on a fresh kernel: 01:00.1 on uio_pci_generic, a kernel driver using the DMA API
    const g = vfioKernel('6.12');
    expect(bindTo(g, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(g, '0000:01:00.1', 'uio_pci_generic').ok).toBe(true);
    const ictx = open(g, '/dev/iommu');
    const dev = open(g, '/dev/vfio/devices/vfio0');
    expect(bindIommufd(g, dev, ictx)).toEqual(['EPERM', 'iommu_device_claim_dma_owner']);
  });

  test('iommu_device_use_default_domain: a kernel driver probing into a user-owned group EBUSY', () => {
    const f = vfioKernel('6.12');
    const { g } = attached(f, '0000:01:00.0', 6);
    expect(g).toBeGreaterThanOrEqual(0);
    // the group is owned by the container user: 01:00.1 may not get a DMA-API driver
    expect(
      f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:01:00.1/driver_override', 'uio_pci_generic').ok,
    ).toBe(true);
    const r = f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/uio_pci_generic/bind', '0000:01:00.1');
    expect(site(r)).toEqual(['EBUSY', 'iommu_device_use_default_domain']);
    // a driver_managed_dma driver (pci-stub) is not counted, so it binds
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:01:00.1/driver_override', 'pci-stub').ok).toBe(
      true,
    );
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/pci-stub/bind', '0000:01:00.1').ok).toBe(true);
  });
});

describe('vfio_iommu_type1_attach_group @ 6.12', () => {
  test('vfio_iommu_type1_attach_group: a vaddr invalidated by UNMAP_DMA VADDR makes a second group EBUSY until it is re-supplied', () => {
    const f = vfioKernel('6.12');
    const { c } = attached(f, '0000:03:00.0', 8);
    const m = f.k.mmap(f.p, { size: 0x2000n, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
    if (m.ok !== true) throw new Error('mmap');
    const va = BigInt(m.ret);
    const dmaMap = (flags: bigint) =>
      site(
        io(
          f,
          c,
          'VFIO_IOMMU_MAP_DMA',
          f.k.stage(
            f.p,
            encodeStruct(vfio_iommu_type1_dma_map, { argsz: 32n, flags, vaddr: va, iova: 0n, size: 0x2000n }),
          ),
        ),
      );
    expect(dmaMap(3n)).toEqual([0, null]); // VFIO_DMA_MAP_FLAG_READ | WRITE
    const un = io(
      f,
      c,
      'VFIO_IOMMU_UNMAP_DMA',
      f.k.stage(
        f.p,
        encodeStruct(vfio_iommu_type1_dma_unmap, {
          argsz: 24n,
          flags: VFIO_DMA_UNMAP_FLAG_VADDR,
          iova: 0n,
          size: 0x2000n,
        }),
      ),
    );
    expect(site(un)).toEqual([0, null]);
    expect(bindTo(f, '0000:00:06.0', 'vfio-pci').ok).toBe(true);
    const g4 = open(f, '/dev/vfio/4');
    const r = setContainer(f, g4, c);
    expect(site(r)).toEqual(['EBUSY', 'vfio_iommu_type1_attach_group']);
    expect(r.ok === false && r.site.check).toBe('iommu->vaddr_invalid_count');
    // the vaddr given back (VFIO_DMA_MAP_FLAG_VADDR): the attach goes through
    expect(dmaMap(VFIO_DMA_MAP_FLAG_VADDR)).toEqual([0, null]);
    expect(site(setContainer(f, g4, c))).toEqual([0, null]);
  });
});

describe('kernfs_fop_write_iter @ 6.12: driver attributes the model does not implement', () => {
  test('kernfs_fop_write_iter: a write to vfio-pci/new_id is EINVAL (new_id_store: fewer than two hex fields)', () => {
    const f = vfioKernel('6.12');
    const r = f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/vfio-pci/new_id', 'bogus');
    expect(site(r)).toEqual(['EINVAL', 'kernfs_fop_write_iter']);
    expect(r.ok === false && r.site.check).toBe('not modelled: new_id/remove_id/uevent');
  });
});
