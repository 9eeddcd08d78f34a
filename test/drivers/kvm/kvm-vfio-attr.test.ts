// kvm-vfio's attribute paths (virt/kvm/vfio.c, kvm_main.c kvm_device_ioctl_attr @ 6.1 and 6.12):
// the errno of each refusal before a file is looked at.
import { describe, expect, test } from 'vitest';
import { kvm_device_attr, kvmNr } from '../../../src/uapi/kvm.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { errnoOf, kvmGroup, kvmVfio, vfioKernel } from '../vfio/helpers.js';

const ADD = 1n;
const DEL = 2n;

describe('kvm-vfio device attributes', () => {
  for (const version of ['6.1', '6.12']) {
    test(`kvm_vfio_set_attr @ ${version}: a group other than KVM_DEV_VFIO_GROUP / FILE is ENXIO`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      expect(errnoOf(kvmGroup(f, dev, ADD, 0, 2n))).toBe('ENXIO');
    });

    test(`kvm_vfio_set_file @ ${version}: attr SET_SPAPR_TCE (3, ppc only) and unknown attrs ENXIO`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      expect(errnoOf(kvmGroup(f, dev, 3n, 0))).toBe('ENXIO');
      expect(errnoOf(kvmGroup(f, dev, 99n, 0))).toBe('ENXIO');
    });

    test(`kvm_vfio_set_file @ ${version}: ADD and DEL of a closed fd EBADF`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      expect(errnoOf(kvmGroup(f, dev, ADD, 77))).toBe('EBADF');
      expect(errnoOf(kvmGroup(f, dev, DEL, 77))).toBe('EBADF');
    });

    test(`kvm_vfio_set_file @ ${version}: get_user of the fd faults: EFAULT`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      const a = f.k.stage(
        f.p,
        encodeStruct(kvm_device_attr, { flags: 0n, group: 1n, attr: ADD, addr: 0x10n }),
      );
      expect(errnoOf(f.k.ioctl(f.p, dev, kvmNr('KVM_SET_DEVICE_ATTR'), a))).toBe('EFAULT');
    });

    test(`kvm_vfio_has_attr @ ${version}: ADD and DEL 0, SET_SPAPR_TCE and other groups ENXIO`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      const has = (group: bigint, attr: bigint) => {
        const a = f.k.stage(f.p, encodeStruct(kvm_device_attr, { flags: 0n, group, attr, addr: 0n }));
        return errnoOf(f.k.ioctl(f.p, dev, kvmNr('KVM_HAS_DEVICE_ATTR'), a));
      };
      expect([has(1n, ADD), has(1n, DEL), has(1n, 3n), has(2n, ADD)]).toEqual([0, 0, 'ENXIO', 'ENXIO']);
    });

    test(`kvm_device_ioctl_attr @ ${version}: GET_DEVICE_ATTR EPERM (no get_attr), EFAULT for a bad struct`, () => {
      const f = vfioKernel(version, true);
      const { dev } = kvmVfio(f);
      // no accessor: EPERM before the struct is read, so even a bad pointer says EPERM
      expect(errnoOf(f.k.ioctl(f.p, dev, kvmNr('KVM_GET_DEVICE_ATTR'), 0x10n))).toBe('EPERM');
      expect(errnoOf(f.k.ioctl(f.p, dev, kvmNr('KVM_HAS_DEVICE_ATTR'), 0x10n))).toBe('EFAULT');
      expect(errnoOf(f.k.ioctl(f.p, dev, kvmNr('KVM_SET_DEVICE_ATTR'), 0x10n))).toBe('EFAULT');
    });
  }
});
