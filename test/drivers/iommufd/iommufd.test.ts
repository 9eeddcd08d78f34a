// /dev/iommu and the vfio cdev (iommufd main.c / ioas.c, device_cdev.c @ 6.12; vfio.md §11, §12).
import { describe, expect, test } from 'vitest';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { bindTo, errnoOf, open, type VF, vfioKernel } from '../vfio/helpers.js';

function cmd(f: VF, fd: number, name: string, words: bigint[][]): { r: unknown; b: DataView; a: bigint } {
  const size = words.reduce((n, [, w]) => n + Number(w), 0);
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  let off = 0;
  for (const [x, w] of words) {
    if (w === 4n) v.setUint32(off, Number(x), true);
    else v.setBigUint64(off, x!, true);
    off += Number(w);
  }
  const a = f.k.stage(f.p, buf);
  const r = errnoOf(f.k.ioctl(f.p, fd, iommufdNr(name), a));
  return { r, b: new DataView(f.p.mm.copyFromUser(a, size)!.buffer), a };
}

describe('iommufd @ 6.12', () => {
  test('iommufd_ioas_alloc_ioctl: size below min_size EINVAL, flags EOPNOTSUPP, a non-zero tail E2BIG', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    expect(
      cmd(f, fd, 'IOMMU_IOAS_ALLOC', [
        [8n, 4n],
        [0n, 4n],
        [0n, 4n],
      ]).r,
    ).toBe('EINVAL');
    expect(
      cmd(f, fd, 'IOMMU_IOAS_ALLOC', [
        [12n, 4n],
        [1n, 4n],
        [0n, 4n],
      ]).r,
    ).toBe('EOPNOTSUPP');
    expect(
      cmd(f, fd, 'IOMMU_IOAS_ALLOC', [
        [16n, 4n],
        [0n, 4n],
        [0n, 4n],
        [1n, 4n],
      ]).r,
    ).toBe('E2BIG');
    const ok = cmd(f, fd, 'IOMMU_IOAS_ALLOC', [
      [12n, 4n],
      [0n, 4n],
      [0n, 4n],
    ]);
    expect(ok.r).toBe(0);
    expect(ok.b.getUint32(8, true)).toBe(1);
  });
  test('iommufd_ioas_map / unmap: EEXIST overlap, ENOENT for nothing mapped or a split; DESTROY ENOENT', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    cmd(f, fd, 'IOMMU_IOAS_ALLOC', [
      [12n, 4n],
      [0n, 4n],
      [0n, 4n],
    ]);
    const va = f.k.scratch(f.p);
    const map = (iova: bigint, len: bigint, flags = 7n) =>
      cmd(f, fd, 'IOMMU_IOAS_MAP', [
        [40n, 4n],
        [flags, 4n],
        [1n, 4n],
        [0n, 4n],
        [va, 8n],
        [len, 8n],
        [iova, 8n],
      ]).r;
    expect(map(0x100000n, 0x2000n, 1n)).toBe('EINVAL');
    expect(map(0x100000n, 0x2000n, 0x17n)).toBe('EOPNOTSUPP');
    expect(map(0x100000n, 0x2000n)).toBe(0);
    expect(map(0x101000n, 0x2000n)).toBe('EEXIST');
    const unmap = (iova: bigint, len: bigint) =>
      cmd(f, fd, 'IOMMU_IOAS_UNMAP', [
        [24n, 4n],
        [1n, 4n],
        [iova, 8n],
        [len, 8n],
      ]);
    expect(unmap(0x500000n, 0x1000n).r).toBe('ENOENT');
    expect(unmap(0x100000n, 0x1000n).r).toBe('ENOENT');
    const u = unmap(0x100000n, 0x2000n);
    expect(u.r).toBe(0);
    expect(u.b.getBigUint64(16, true)).toBe(0x2000n);
    expect(
      cmd(f, fd, 'IOMMU_DESTROY', [
        [8n, 4n],
        [7n, 4n],
      ]).r,
    ).toBe('ENOENT');
    expect(
      cmd(f, fd, 'IOMMU_DESTROY', [
        [8n, 4n],
        [1n, 4n],
      ]).r,
    ).toBe(0);
  });
  test('vfio_df_ioctl_bind_iommufd: EINVAL before bind, EBADFD for a non-iommufd, twice EINVAL, group EBUSY both ways', () => {
    const f = vfioKernel('6.12');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const ictx = open(f, '/dev/iommu');
    const dev = open(f, '/dev/vfio/devices/vfio0');
    const bind = (fd: number, to: number) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setUint32(0, 16, true);
      new DataView(b.buffer).setInt32(8, to, true);
      return errnoOf(f.k.ioctl(f.p, fd, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), f.k.stage(f.p, b)));
    };
    expect(errnoOf(f.k.ioctl(f.p, dev, iommufdNr('VFIO_DEVICE_DETACH_IOMMUFD_PT'), 0n))).toBe('EINVAL');
    const g = open(f, '/dev/vfio/8');
    expect(bind(dev, ictx)).toBe('EBUSY');
    f.k.close(f.p, g);
    expect(bind(dev, dev)).toBe('EBADFD');
    expect(bind(dev, 999)).toBe('EBADF');
    expect(bind(dev, ictx)).toBe(0);
    expect(bind(dev, ictx)).toBe('EINVAL');
    expect(errnoOf(f.k.open(f.p, '/dev/vfio/8', 2))).toBe('EBUSY');
    f.k.close(f.p, dev);
    expect(typeof errnoOf(f.k.open(f.p, '/dev/vfio/8', 2))).toBe('number');
  });
  test('/dev/iommu and the cdev do not exist on 6.1', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    expect(errnoOf(f.k.open(f.p, '/dev/iommu', 2))).toBe('ENOENT');
    expect(errnoOf(f.k.open(f.p, '/dev/vfio/devices/vfio0', 2))).toBe('ENOENT');
  });
});
