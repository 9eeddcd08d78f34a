// "Why does this unbind hang?" (vfio_unregister_group_dev waits for every file of the device;
// 4.13 – 5.18 the last device also waits on group->container_q): the end-of-run diagnostic lists
// the holders, kvm-vfio among them (virt/kvm/vfio.c kvm_vfio_file_add @ 6.12 and Debian 6.1, kvm_vfio_set_group
// with an external user @ 5.18), with the fds through which each can still be let go.
import { describe, expect, test } from 'vitest';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { KVM_DEV_VFIO_GROUP_ADD } from '../../../src/uapi/kvm.js';
import {
  attached,
  bindTo,
  errnoOf,
  fdOf,
  getDeviceFd,
  kvmGroup,
  kvmVfio,
  open,
  type VF,
  vfioKernel,
} from './helpers.js';

const UNBIND = '/sys/bus/pci/drivers/vfio-pci/unbind';

function waits(f: VF): string[] {
  return f.k.drivers.drivers
    .flatMap((d) => d.stateDiagnostics?.(f.k) ?? [])
    .filter((d) => d.code === 'vfio-unbind-waiting')
    .map((d) => d.message);
}

describe('vfio_unregister_group_dev: the holders of a waiting unbind', () => {
  test('@ 6.12 kvm_vfio_file_add: the cdev file kvm-vfio holds keeps the unbind waiting until its fd closes', () => {
    const f = vfioKernel('6.12', true);
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const { vm, dev: kv } = kvmVfio(f);
    const ictx = open(f, '/dev/iommu');
    const cdev = open(f, '/dev/vfio/devices/vfio0');
    expect(errnoOf(kvmGroup(f, kv, KVM_DEV_VFIO_GROUP_ADD, cdev))).toBe(0);
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(0, 16, true);
    new DataView(b.buffer).setInt32(8, ictx, true);
    expect(errnoOf(f.k.ioctl(f.p, cdev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), f.k.stage(f.p, b)))).toBe(0);
    const file = f.k.fget(f.p, cdev)!.id;
    f.k.close(f.p, cdev); // QEMU closed its fd; kvm-vfio's reference keeps the file
    const ub = f.k.sysfsWrite(f.p, UNBIND, '0000:03:00.0');
    expect(ub.ok).toBe('blocked');
    const [m, ...rest] = waits(f);
    expect(rest).toEqual([]);
    expect(m).toContain('the unbind of 0000:03:00.0 from vfio-pci waits in vfio_unregister_group_dev');
    expect(m).toContain(
      `the kvm-vfio device (file ${f.k.fget(f.p, kv)!.id}, fd ${kv} of process main) of VM 1 ` +
        `(process main; VM fd ${vm} of process main), which holds file ${file}`,
    );
    expect(m).not.toMatch(/fd \d+ of process main \(file/); // no process fd reaches the file
    expect(m).toContain(
      "kvm-vfio lets its reference go with KVM_DEV_VFIO_FILE_DEL, or when the kvm-vfio device's fd closes",
    );
    // kvm_vfio_release (6.2+): closing the kvm-vfio device's fd drops the file, the unbind ends
    f.k.close(f.p, kv);
    if (ub.ok === 'blocked') expect(ub.retry().ok).toBe(true);
    expect(waits(f)).toEqual([]);
  });

  test('@ 6.1 kvm_vfio_file_add (kvm_vfio_file_is_group): kvm-vfio holds the group file, not the device: only the device fd is named', () => {
    const f = vfioKernel('6.1', true);
    const { g } = attached(f, '0000:03:00.0', 8);
    const { dev: kv } = kvmVfio(f);
    expect(errnoOf(kvmGroup(f, kv, KVM_DEV_VFIO_GROUP_ADD, g))).toBe(0);
    const d = fdOf(getDeviceFd(f, g, '0000:03:00.0'));
    const ub = f.k.sysfsWrite(f.p, UNBIND, '0000:03:00.0');
    expect(ub.ok).toBe('blocked');
    const [m] = waits(f);
    expect(m).toContain(`held by fd ${d} of process main (file ${f.k.fget(f.p, d)!.id}).`);
    expect(m).not.toContain('kvm-vfio device (file');
    expect(m).not.toContain('kvm-vfio lets');
    f.k.close(f.p, d);
    if (ub.ok === 'blocked') expect(ub.retry().ok).toBe(true);
    expect(waits(f)).toEqual([]);
  });

  test('@ 5.18 group->container_q: the kvm-vfio external user keeps the group in its container after every fd closed', () => {
    const f = vfioKernel('5.18', true);
    const { c, g } = attached(f, '0000:03:00.0', 8);
    const { vm, dev: kv } = kvmVfio(f);
    expect(errnoOf(kvmGroup(f, kv, KVM_DEV_VFIO_GROUP_ADD, g))).toBe(0);
    f.k.close(f.p, fdOf(getDeviceFd(f, g, '0000:03:00.0')));
    f.k.close(f.p, g);
    f.k.close(f.p, c);
    const ub = f.k.sysfsWrite(f.p, UNBIND, '0000:03:00.0');
    expect(ub.ok).toBe('blocked');
    const [m] = waits(f);
    expect(m).toMatch(
      /the unbind of 0000:03:00\.0, the last device of group 8, waits until the group leaves container 1/,
    );
    expect(m).toContain(`of VM 1 (process main; VM fd ${vm} of process main)`);
    // before 6.2 the kvm-vfio device goes with the VM, not with its own fd
    f.k.close(f.p, kv);
    if (ub.ok === 'blocked') expect(ub.retry().ok).toBe('blocked');
    f.k.close(f.p, vm);
    if (ub.ok === 'blocked') expect(ub.retry().ok).toBe(true);
    expect(waits(f)).toEqual([]);
  });
});
