// virt/kvm/vfio.c kvm_vfio_file_add / kvm_vfio_file_del @ 6.12 (Debian 6.12.117): since 6.6
// (2f99073a722b) KVM_DEV_VFIO_FILE takes any vfio file (vfio_file_is_valid: a group, or a device
// file whether from the cdev or from VFIO_GROUP_GET_DEVICE_FD); Debian 6.1's kvm_vfio_file_add (the
// 6.6 rename as a backport) takes groups only (kvm_vfio_file_is_group), as mainline 6.5's
// kvm_vfio_group_add does.
import { describe, expect, test } from 'vitest';
import type { VfioDevice } from '../../../src/drivers/vfio/state.js';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { KVM_DEV_VFIO_GROUP_ADD, KVM_DEV_VFIO_GROUP_DEL } from '../../../src/uapi/kvm.js';
import {
  attached,
  bindTo,
  errnoOf,
  getDeviceFd,
  kvmGroup,
  kvmVfio,
  open,
  type VF,
  vfioKernel,
} from '../vfio/helpers.js';

const ADD = KVM_DEV_VFIO_GROUP_ADD;
const DEL = KVM_DEV_VFIO_GROUP_DEL;

function bindCdev(f: VF, dev: number, ictx: number): string | number | null {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, 16, true);
  new DataView(b.buffer).setInt32(8, ictx, true);
  return errnoOf(f.k.ioctl(f.p, dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), f.k.stage(f.p, b)));
}

/** the vfio_device behind a cdev fd (its kvm is what vfio-pci would use) */
function vfioDevice(f: VF, fd: number): VfioDevice {
  return (f.k.fget(f.p, fd)!.priv as { dev: VfioDevice }).dev;
}

describe('kvm_vfio_file_add @ 6.12', () => {
  test('a cdev file is taken: 0, again EEXIST; a non-vfio fd EINVAL; a closed fd EBADF; DEL 0 then ENOENT', () => {
    const f = vfioKernel('6.12', true);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const { dev: kv } = kvmVfio(f);
    const ictx = open(f, '/dev/iommu');
    const cdev = open(f, '/dev/vfio/devices/vfio0');
    expect(errnoOf(kvmGroup(f, kv, ADD, ictx))).toBe('EINVAL');
    expect(errnoOf(kvmGroup(f, kv, ADD, 999))).toBe('EBADF');
    expect(errnoOf(kvmGroup(f, kv, ADD, cdev))).toBe(0);
    expect(errnoOf(kvmGroup(f, kv, ADD, cdev))).toBe('EEXIST');
    // vfio_device_get_kvm_safe(device, df->kvm) at bind: the device sees the VM
    expect(bindCdev(f, cdev, ictx)).toBe(0);
    expect(vfioDevice(f, cdev).kvm).not.toBeNull();
    expect(errnoOf(kvmGroup(f, kv, DEL, cdev))).toBe(0);
    const r = kvmGroup(f, kv, DEL, cdev);
    expect(r).toMatchObject({ ok: false, errno: 'ENOENT', site: { function: 'kvm_vfio_file_del' } });
    expect(kvmGroup(f, kv, ADD, 999)).toMatchObject({
      errno: 'EBADF',
      site: { function: 'kvm_vfio_file_add' },
    });
  });

  test('the held cdev file outlives its fd: closing it leaves the device bound until FILE_DEL', () => {
    const f = vfioKernel('6.12', true);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const { dev: kv } = kvmVfio(f);
    const ictx = open(f, '/dev/iommu');
    const cdev = open(f, '/dev/vfio/devices/vfio0');
    expect(bindCdev(f, cdev, ictx)).toBe(0);
    expect(errnoOf(kvmGroup(f, kv, ADD, cdev))).toBe(0);
    const file = f.k.fget(f.p, cdev)!;
    const d = vfioDevice(f, cdev);
    f.k.close(f.p, cdev);
    // kvf->file = get_file(filp): the device stays open (and its group blocked)
    expect(d.openCount).toBe(1);
    expect(errnoOf(f.k.open(f.p, '/dev/vfio/8', 2))).toBe('EBUSY');
    expect(file.refs).toBe(1);
  });

  test('a device fd from VFIO_GROUP_GET_DEVICE_FD is a vfio file too (vfio_device_fops)', () => {
    const f = vfioKernel('6.12', true);
    const { g } = attached(f, '0000:03:00.0', 8);
    const d = Number((getDeviceFd(f, g, '0000:03:00.0') as { ret: number }).ret);
    const { dev: kv } = kvmVfio(f);
    expect(errnoOf(kvmGroup(f, kv, ADD, d))).toBe(0);
    expect(errnoOf(kvmGroup(f, kv, ADD, g))).toBe(0);
    expect(errnoOf(kvmGroup(f, kv, DEL, d))).toBe(0);
    expect(errnoOf(kvmGroup(f, kv, DEL, g))).toBe(0);
  });
});

describe('kvm_vfio_file_add @ 6.1 (Debian), kvm_vfio_group_add @ 6.5', () => {
  for (const [version, add] of [
    ['6.1', 'kvm_vfio_file_add'],
    ['6.5', 'kvm_vfio_group_add'],
  ] as const) {
    test(`${add} @ ${version}: a device fd is not a group: EINVAL (kvm_vfio_file_is_group); the group is taken`, () => {
      const f = vfioKernel(version, true);
      const { g } = attached(f, '0000:03:00.0', 8);
      const d = Number((getDeviceFd(f, g, '0000:03:00.0') as { ret: number }).ret);
      const { dev: kv } = kvmVfio(f);
      const r = kvmGroup(f, kv, ADD, d);
      expect(r).toMatchObject({
        errno: 'EINVAL',
        site: { function: add, check: '!kvm_vfio_file_is_group(filp)' },
      });
      expect(errnoOf(kvmGroup(f, kv, ADD, g))).toBe(0);
      expect(kvmGroup(f, kv, ADD, g)).toMatchObject({ errno: 'EEXIST', site: { function: add } });
    });
  }
});
