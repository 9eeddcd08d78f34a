// The copy faults of iommufd's VFIO compat container (drivers/iommu/iommufd/vfio_compat.c @ 6.12:
// iommufd_vfio_map_dma, iommufd_vfio_unmap_dma, iommufd_vfio_iommu_get_info), on the
// "6.12-iommufd-vfio-container" build: an unreadable argument, and one the kernel cannot write
// back into (a read-only alias of a memfd page).
import { describe, expect, test } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { bindTo, errnoOf, io, open, setContainer, site, type VF, vfioKernel } from '../vfio/helpers.js';

/** A memfd page mapped read-write and again read-only */
function aliases(f: VF): { rw: bigint; ro: bigint } {
  const a = f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ | PROT_WRITE, kind: 'memfd' });
  if (a.ok !== true) throw new Error('mmap');
  const rw = BigInt(a.ret);
  const obj = f.p.mm.vmas.find((v) => v.start === rw)!.obj;
  const b = f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ, kind: 'memfd', object: obj });
  if (b.ok !== true) throw new Error('mmap');
  return { rw, ro: BigInt(b.ret) };
}

function compat(): VF & { c: number } {
  const f = vfioKernel('6.12-iommufd-vfio-container');
  expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
  const c = open(f, '/dev/vfio/vfio');
  const g = open(f, '/dev/vfio/8');
  expect(errnoOf(setContainer(f, g, c))).toBe(0);
  expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 3n))).toBe(0);
  return { ...f, c };
}

describe('the iommufd VFIO compat container: copy faults', () => {
  test('iommufd_vfio_map_dma / iommufd_vfio_unmap_dma / iommufd_vfio_iommu_get_info: copy_from_user EFAULT', () => {
    const f = compat();
    expect(site(io(f, f.c, 'VFIO_IOMMU_MAP_DMA', 0n))).toEqual(['EFAULT', 'iommufd_vfio_map_dma']);
    expect(site(io(f, f.c, 'VFIO_IOMMU_UNMAP_DMA', 0n))).toEqual(['EFAULT', 'iommufd_vfio_unmap_dma']);
    expect(site(io(f, f.c, 'VFIO_IOMMU_GET_INFO', 0n))).toEqual(['EFAULT', 'iommufd_vfio_iommu_get_info']);
  });

  test('iommufd_vfio_unmap_dma / iommufd_vfio_iommu_get_info: the copy back EFAULT on read-only memory', () => {
    const f = compat();
    const { rw, ro } = aliases(f);
    // UNMAP_DMA of nothing (argsz 24, iova 0x100000, size 0x1000): success would write size back
    const u = new Uint8Array(24);
    const uv = new DataView(u.buffer);
    uv.setUint32(0, 24, true);
    uv.setBigUint64(8, 0x100000n, true);
    uv.setBigUint64(16, 0x1000n, true);
    expect(f.p.mm.copyToUser(rw, u)).toBe(true);
    expect(site(io(f, f.c, 'VFIO_IOMMU_UNMAP_DMA', ro))).toEqual(['EFAULT', 'iommufd_vfio_unmap_dma']);
    const i = new Uint8Array(16);
    new DataView(i.buffer).setUint32(0, 16, true);
    expect(f.p.mm.copyToUser(rw, i)).toBe(true);
    expect(site(io(f, f.c, 'VFIO_IOMMU_GET_INFO', ro))).toEqual(['EFAULT', 'iommufd_vfio_iommu_get_info']);
  });
});
