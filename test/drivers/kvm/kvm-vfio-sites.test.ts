// kvm-vfio's refusals with the function of each era's virt/kvm/vfio.c: kvm_vfio_set_group alone
// up to 5.18, kvm_vfio_group_add / _del from 5.19 (mainline 6.5), kvm_vfio_set_file /
// kvm_vfio_file_add / _del after the 6.6 rename, which Debian's 6.1.192 carries as a backport.
import { describe, expect, test } from 'vitest';
import { kvm_device_attr, kvmNr } from '../../../src/uapi/kvm.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { attached, bindTo, kvmGroup, kvmVfio, open, site, vfioKernel } from '../vfio/helpers.js';

const ADD = 1n;
const DEL = 2n;

const ERAS = [
  ['3.19', 'kvm_vfio_set_group', 'kvm_vfio_set_group', 'kvm_vfio_set_group'],
  ['5.18', 'kvm_vfio_set_group', 'kvm_vfio_set_group', 'kvm_vfio_set_group'],
  ['6.1', 'kvm_vfio_set_file', 'kvm_vfio_file_add', 'kvm_vfio_file_del'],
  ['6.5', 'kvm_vfio_set_group', 'kvm_vfio_group_add', 'kvm_vfio_group_del'],
  ['6.12', 'kvm_vfio_set_file', 'kvm_vfio_file_add', 'kvm_vfio_file_del'],
] as const;

describe('kvm-vfio: the function of each era', () => {
  for (const [version, set, add, del] of ERAS) {
    test(`${set} / ${add} / ${del} @ ${version}: EFAULT, unknown attr ENXIO, EBADF, EEXIST, ENOENT`, () => {
      const f = vfioKernel(version, true);
      const { g } = attached(f, '0000:03:00.0', 8);
      const { dev } = kvmVfio(f);
      const fault = f.k.stage(
        f.p,
        encodeStruct(kvm_device_attr, { flags: 0n, group: 1n, attr: ADD, addr: 0x10n }),
      );
      expect(site(f.k.ioctl(f.p, dev, kvmNr('KVM_SET_DEVICE_ATTR'), fault))).toEqual(['EFAULT', set]);
      expect(site(kvmGroup(f, dev, 99n, g))).toEqual(['ENXIO', set]);
      expect(site(kvmGroup(f, dev, ADD, 77))).toEqual(['EBADF', add]);
      expect(site(kvmGroup(f, dev, DEL, 77))).toEqual(['EBADF', del]);
      expect(site(kvmGroup(f, dev, ADD, g))).toEqual([0, null]);
      expect(site(kvmGroup(f, dev, ADD, g))).toEqual(['EEXIST', add]);
      expect(site(kvmGroup(f, dev, DEL, g))).toEqual([0, null]);
      expect(site(kvmGroup(f, dev, DEL, g))).toEqual(['ENOENT', del]);
      // kvm_device_ioctl: anything but the attr ioctls
      expect(site(f.k.ioctl(f.p, dev, kvmNr('KVM_CREATE_VM'), 0n))).toEqual(['ENOTTY', 'kvm_device_ioctl']);
    });
  }

  test('vfio_group_get_external_user @ 5.18: a group in no container EINVAL (!atomic_inc_not_zero(container_users))', () => {
    const f = vfioKernel('5.18', true);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const g = open(f, '/dev/vfio/8');
    const { dev } = kvmVfio(f);
    const r = kvmGroup(f, dev, ADD, g);
    expect(site(r)).toEqual(['EINVAL', 'vfio_group_get_external_user']);
    expect(r.ok === false && r.site.check).toBe('!atomic_inc_not_zero(&group->container_users)');
    // a non-group file is refused there too, before any container question
    expect(site(kvmGroup(f, dev, ADD, dev))).toEqual(['EINVAL', 'vfio_group_get_external_user']);
  });
});
