// kvm's fault sites (virt/kvm/kvm_main.c kvm_ioctl_create_device, virt/kvm/vfio.c at 6.1 and 6.12).
// Test names give the kernel function followed.
import { describe, expect, test } from 'vitest';
import { run, yaml } from './helpers.js';

const VM = `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/vfio/8
    as: g
  - open: /dev/kvm
    as: kvm
  - ioctl: KVM_CREATE_VM
    fd: kvm
    as: vm
`;
const createDevice = (fail?: number) => `  - ioctl: KVM_CREATE_DEVICE
    fd: vm
    arg: { type: KVM_DEV_TYPE_VFIO }
    as: kvfio
${fail ? `    fail_nth: ${fail}\n` : ''}`;
const kvm = (kernel: string, steps: string) =>
  yaml(kernel, steps).replace('steps:', 'machine: { kvm: true }\nsteps:');

describe('kvm', () => {
  test.each(['6.1', '6.12'])(
    'kvm_ioctl_create_device @ %s: kzalloc of the kvm_device -ENOMEM, before ops->create: no kvm-vfio exists',
    (ver) => {
      // point 1: copy_from_user of the kvm_create_device; point 2: the kzalloc
      const x = run(kvm(ver, `${VM}${createDevice(2)}${createDevice()}`));
      expect(x.step(4).faults?.[0]?.site).toBe('kvm_ioctl_create_device: kzalloc dev');
      expect(x.step(4)).toMatchObject({ errno: 'ENOMEM', site: { function: 'kvm_ioctl_create_device' } });
      // kvm_vfio_create's "only one per VM" does not see a device: the next create is no EBUSY
      expect(x.step(5)).toMatchObject({ errno: null, ret: 0 });
      expect(x.leaks).toEqual([]);
    },
  );

  test.each(['6.1', '6.12'])(
    'kvm_vfio_create @ %s: kzalloc of the kvm_vfio -ENOMEM; kvm_ioctl_create_device kfrees the dev, no fd',
    (ver) => {
      const x = run(kvm(ver, `${VM}${createDevice(3)}${createDevice()}`));
      expect(x.step(4).faults?.[0]?.site).toBe('kvm_vfio_create: kzalloc kv');
      expect(x.step(4)).toMatchObject({ errno: 'ENOMEM', site: { function: 'kvm_vfio_create' } });
      expect(x.step(5)).toMatchObject({ errno: null, ret: 0 });
      expect(x.r.state.fds.filter((f) => String(f.path).startsWith('anon_inode:kvm-vfio'))).toHaveLength(1);
      expect(x.leaks).toEqual([]);
    },
  );

  test.each(['6.1', '6.12'])(
    'kvm_vfio_file_add @ %s: kzalloc of the kvm_vfio_file -ENOMEM (goto out_unlock): the group is not added, its fget dropped',
    (ver) => {
      const add = (fail?: number) => `  - ioctl: KVM_SET_DEVICE_ATTR
    fd: kvfio
    arg: { group: KVM_DEV_VFIO_FILE, attr: KVM_DEV_VFIO_FILE_ADD, addr: "$buf" }
${fail ? `    fail_nth: ${fail}\n` : ''}`;
      const x = run(
        kvm(
          ver,
          `${VM}${createDevice()}  - mmap: buf
    size: 4K
  - poke: buf
    value: $g
${add(2)}${add()}`,
        ),
      );
      // point 1: copy_from_user of the kvm_device_attr; the fd is read with get_user (no point)
      expect(x.step(7).faults?.[0]?.site).toBe('kvm_vfio_file_add: kzalloc kvf');
      expect(x.step(7)).toMatchObject({ errno: 'ENOMEM' });
      // nothing was listed: the same file again is no EEXIST
      expect(x.step(8)).toMatchObject({ errno: null, ret: 0 });
      expect(x.leaks).toEqual([]);
    },
  );
});
