// iommufd refusals with their sites, and where IOMMU_IOAS_MAP without FIXED_IOVA puts a mapping
// (drivers/iommu/iommufd/main.c, ioas.c, io_pagetable.c iopt_alloc_iova, device.c @ 6.12).
import { describe, expect, test } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { bindTo, errnoOf, iofd as io, open, site, type VF, vfioKernel, words } from '../vfio/helpers.js';

function ioas(f: VF, fd: number): number {
  const a = words(f, [
    [12n, 4],
    [0n, 4],
    [0n, 4],
  ]);
  expect(errnoOf(io(f, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
  return new DataView(f.p.mm.copyFromUser(a + 8n, 4)!.buffer).getUint32(0, true);
}

/** IOAS_MAP READABLE|WRITEABLE (plus `flags`); the outcome and the IOVA the kernel wrote back */
function map(f: VF, fd: number, id: number, uptr: bigint, length: bigint, iova = 0n, flags = 6n) {
  const a = words(f, [
    [40n, 4],
    [flags, 4],
    [BigInt(id), 4],
    [0n, 4],
    [uptr, 8],
    [length, 8],
    [iova, 8],
  ]);
  const r = io(f, fd, 'IOMMU_IOAS_MAP', a);
  return { r, iova: new DataView(f.p.mm.copyFromUser(a + 32n, 8)!.buffer).getBigUint64(0, true) };
}

function guest(f: VF, at: bigint, size: bigint): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon', at });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

describe('iopt_alloc_iova @ 6.12: the IOVA IOAS_MAP picks', () => {
  test('the user address alignment, up to roundup_pow_of_two(length), capped at 2 MiB; page offset kept with no domain', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    const id = ioas(f, fd);
    const va = guest(f, 0x40000000n, 0x1000000n); // 1 GiB aligned
    // 8 KiB from a 1 GiB aligned address: aligned to 8 KiB, the first hole above PAGE_SIZE
    expect(map(f, fd, id, va, 0x2000n)).toMatchObject({ r: { ok: true }, iova: 0x2000n });
    // 12 KiB: roundup_pow_of_two(0x3000) is 16 KiB: the next 16 KiB boundary above the first area
    expect(map(f, fd, id, va, 0x3000n)).toMatchObject({ r: { ok: true }, iova: 0x4000n });
    // 4 MiB: the 2 MiB cap (HPAGE_SIZE)
    expect(map(f, fd, id, va, 0x400000n)).toMatchObject({ r: { ok: true }, iova: 0x200000n });
    // a user address aligned to 4 KiB only: 4 KiB alignment, the first free page
    expect(map(f, fd, id, va + 0x1000n, 0x1000n)).toMatchObject({ r: { ok: true }, iova: 0x1000n });
    // no domain: iova_alignment is 1, an odd length and the page offset are kept; the first hole
    // that fits 0x1800 bytes is above the 16 KiB area (ALIGN(0x7000, 0x10) | 0x10)
    expect(map(f, fd, id, va + 0x10n, 0x1800n)).toMatchObject({ r: { ok: true }, iova: 0x7010n });
  });

  test('with a domain: iopt_alloc_area_pages refuses a length off the page size; iopt_alloc_iova an address below page alignment', () => {
    const f = vfioKernel('6.12');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const fd = open(f, '/dev/iommu');
    const id = ioas(f, fd);
    const dev = open(f, '/dev/vfio/devices/vfio0');
    const bind = words(f, [
      [16n, 4],
      [0n, 4],
      [BigInt(fd), 4],
      [0n, 4],
    ]);
    expect(errnoOf(io(f, dev, 'VFIO_DEVICE_BIND_IOMMUFD', bind))).toBe(0);
    // read out_devid now: later stagings reuse the buffer
    const devid = new DataView(f.p.mm.copyFromUser(bind + 12n, 4)!.buffer).getUint32(0, true);
    const attach = words(f, [
      [12n, 4],
      [0n, 4],
      [BigInt(id), 4],
    ]);
    expect(errnoOf(io(f, dev, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', attach))).toBe(0);
    const va = guest(f, 0x40000000n, 0x200000n);
    expect(site(map(f, fd, id, va, 0x1800n).r)).toEqual(['EINVAL', 'iopt_alloc_area_pages']);
    expect(site(map(f, fd, id, va + 0x10n, 0x1000n).r)).toEqual(['EINVAL', 'iopt_alloc_iova']);
    expect(map(f, fd, id, va, 0x1000n)).toMatchObject({ r: { ok: true }, iova: 0x1000n });
    // with a domain the pages are pinned at once: memory that is not mapped EFAULT
    expect(site(map(f, fd, id, 0x600000000000n, 0x1000n).r)).toEqual(['EFAULT', 'pfn_reader_user_pin']);
    // destroying the IOAS while a device's HWPT is built on it: iommufd_object_remove EBUSY
    const destroy = (oid: number) =>
      site(
        io(
          f,
          fd,
          'IOMMU_DESTROY',
          words(f, [
            [8n, 4],
            [BigInt(oid), 4],
          ]),
        ),
      );
    expect(destroy(id)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(destroy(999)).toEqual(['ENOENT', 'iommufd_object_remove']);
    // attaching to an id that is no object, or to the device object itself
    const pt = (ptId: number) =>
      site(
        io(
          f,
          dev,
          'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
          words(f, [
            [12n, 4],
            [0n, 4],
            [BigInt(ptId), 4],
          ]),
        ),
      );
    expect(pt(999)).toEqual(['ENOENT', 'iommufd_get_object']);
    expect(pt(devid)).toEqual(['EINVAL', 'iommufd_device_change_pt']);
  });
});

describe('iommufd_fops_ioctl @ 6.12: the ucmd', () => {
  test('copy_struct_from_user E2BIG for a non-zero tail; iommufd_get_ioas ENOENT; iommufd_ioas_unmap EOVERFLOW', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    const tail = words(f, [
      [16n, 4],
      [0n, 4],
      [0n, 4],
      [1n, 4],
    ]);
    expect(site(io(f, fd, 'IOMMU_IOAS_ALLOC', tail))).toEqual(['E2BIG', 'copy_struct_from_user']);
    expect(site(io(f, fd, 'IOMMU_IOAS_ALLOC', 0n))).toEqual(['EFAULT', 'iommufd_fops_ioctl']);
    const unmap = (id: bigint, iova: bigint, length: bigint) =>
      site(
        io(
          f,
          fd,
          'IOMMU_IOAS_UNMAP',
          words(f, [
            [24n, 4],
            [id, 4],
            [iova, 8],
            [length, 8],
          ]),
        ),
      );
    expect(unmap(7n, 0n, 0x1000n)).toEqual(['ENOENT', 'iommufd_get_ioas']);
    const id = BigInt(ioas(f, fd));
    expect(unmap(id, (1n << 64n) - 1n, 0x1000n)).toEqual(['EOVERFLOW', 'iommufd_ioas_unmap']);
    expect(unmap(id, 0x1000n, (1n << 64n) - 1n)).toEqual(['EOVERFLOW', 'iommufd_ioas_unmap']);
    // iova 0 with length ULONG_MAX is unmap-all: nothing mapped is fine
    expect(unmap(id, 0n, (1n << 64n) - 1n)).toEqual([0, null]);
  });
});
