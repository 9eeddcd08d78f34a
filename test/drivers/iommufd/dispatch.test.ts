// iommufd_fops_ioctl's dispatch (drivers/iommu/iommufd/main.c): which numbers are iommufd commands
// at each release (ARRAY_SIZE(iommufd_ioctl_ops): 0x88 @ 6.5, 0x8a @ 6.6, 0x8d @ 6.9, 0x8e @ 6.12),
// and for a number inside the table, get_user's EFAULT before the ioctl_num check's ENOTTY before
// the min_size EINVAL.
import { describe, expect, test } from 'vitest';
import { ioc } from '../../../src/uapi/ioc.js';
import { IOMMUFD_TYPE } from '../../../src/uapi/iommufd.js';
import { open, site, type VF, vfioKernel, words } from '../vfio/helpers.js';

const io = (nr: number, type = IOMMUFD_TYPE) => ioc('none', type, nr, 0);
const call = (f: VF, fd: number, cmd: number, arg: bigint) => site(f.k.ioctl(f.p, fd, cmd, arg));

describe('iommufd_fops_ioctl', () => {
  test.each([
    ['6.5', 0x88],
    ['6.6', 0x8a],
    ['6.9', 0x8d],
    ['6.10', 0x8d],
    ['6.12', 0x8e],
  ])(
    '@ %s the last command is nr %s: a NULL argument there is get_user EFAULT, one past it iommufd_vfio_ioctl ENOTTY',
    (v, last) => {
      const f = vfioKernel(v);
      const fd = open(f, '/dev/iommu');
      expect(call(f, fd, io(last), 0n)).toEqual(['EFAULT', 'iommufd_fops_ioctl']);
      expect(call(f, fd, io(last + 1), 0n)).toEqual(['ENOTTY', 'iommufd_vfio_ioctl']);
    },
  );

  test('a number inside the table with another type: size read first (EFAULT), then ioctl_num != cmd ENOTTY', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    const other = io(0x81, 0xaf);
    expect(call(f, fd, other, 0n)).toEqual(['EFAULT', 'iommufd_fops_ioctl']);
    const a = words(f, [[0n, 4]]);
    expect(call(f, fd, other, a)).toEqual(['ENOTTY', 'iommufd_fops_ioctl']);
    // the right number with that size: min_size EINVAL
    expect(call(f, fd, io(0x81), a)).toEqual(['EINVAL', 'iommufd_fops_ioctl']);
  });

  test('below IOMMUFD_CMD_BASE: the VFIO container ioctls, ENOTTY for unknown ones whatever the argument', () => {
    const f = vfioKernel('6.12');
    const fd = open(f, '/dev/iommu');
    expect(call(f, fd, io(0x7f), 0n)).toEqual(['ENOTTY', 'iommufd_vfio_ioctl']);
  });
});
