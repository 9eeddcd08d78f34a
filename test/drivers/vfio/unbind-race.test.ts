// Seed 001 ("vfio: Add device tracking during unbind", vfio.md §15): a vfio-pci unbind paused at
// unbind:device-removed, with kvm-vfio's GROUP_DEL run inside the window, on each era.
import { describe, expect, test } from 'vitest';
import { KVM_DEV_VFIO_GROUP_ADD, KVM_DEV_VFIO_GROUP_DEL } from '../../../src/uapi/kvm.js';
import {
  attached,
  errnoOf,
  fdOf,
  getDeviceFd,
  groupFlags,
  kvmGroup,
  kvmVfio,
  type VF,
  vfioKernel,
} from './helpers.js';

const BDF = '0000:03:00.0';
const UNBIND = '/sys/bus/pci/drivers/vfio-pci/unbind';

/** QEMU's setup: group 8 in a container, type1v2, handed to kvm-vfio, the device fd opened and closed. */
function seed(version: string): VF & { c: number; g: number; vm: number; dev: number } {
  const f = vfioKernel(version, true);
  const { c, g } = attached(f, BDF, 8);
  const { vm, dev } = kvmVfio(f);
  expect(errnoOf(kvmGroup(f, dev, KVM_DEV_VFIO_GROUP_ADD, g))).toBe(0);
  f.k.close(f.p, fdOf(getDeviceFd(f, g, BDF)));
  return { ...f, c, g, vm, dev };
}

describe('vfio_unregister_group_dev / kvm-vfio GROUP_DEL: the unbind window (seed 001)', () => {
  test('kvm_vfio_set_group @ 3.19: EINVAL inside the window (external user of a non-viable group); the reference is stuck', () => {
    const s = seed('3.19');
    const r = s.k.sysfsWrite(s.p, UNBIND, BDF, 'unbind:device-removed');
    expect(r.ok).toBe('paused');
    expect(groupFlags(s, s.g)).toBe(2); // CONTAINER_SET, not VIABLE: vfio-pci still bound, off the list
    const del = kvmGroup(s, s.dev, KVM_DEV_VFIO_GROUP_DEL, s.g);
    expect(errnoOf(del)).toBe('EINVAL');
    if (del.ok === false) expect(del.site.function).toBe('vfio_group_get_external_user');
    if (r.ok === 'paused') expect(r.resume().ok).toBe(true);
    // QEMU gives up on the group and closes it: only the VM's end releases kvm-vfio's hold.
    s.k.close(s.p, s.g);
    s.k.close(s.p, s.c);
    const diags = s.k.drivers.drivers.flatMap((d) => d.stateDiagnostics?.(s.k) ?? []);
    expect(diags.map((d) => d.code)).toContain('vfio-group-reference-stuck');
    expect(diags[0]?.message).toMatch(/kvm-vfio device .* of VM 1.*vfio group 8/);
    s.k.close(s.p, s.dev);
    s.k.close(s.p, s.vm);
    expect(s.k.drivers.drivers.flatMap((d) => d.stateDiagnostics?.(s.k) ?? [])).toEqual([]);
  });

  test('kvm_vfio_set_group @ 4.0: the unbound_list keeps the group viable, GROUP_DEL works', () => {
    const s = seed('4.0');
    const r = s.k.sysfsWrite(s.p, UNBIND, BDF, 'unbind:device-removed');
    expect(r.ok).toBe('paused');
    expect(groupFlags(s, s.g)).toBe(3);
    expect(errnoOf(kvmGroup(s, s.dev, KVM_DEV_VFIO_GROUP_DEL, s.g))).toBe(0);
    if (r.ok === 'paused') expect(r.resume().ok).toBe(true);
  });

  test('vfio_unregister_group_dev @ 5.18: GROUP_DEL by file; the last device then waits for the container', () => {
    const s = seed('5.18');
    const r = s.k.sysfsWrite(s.p, UNBIND, BDF, 'unbind:device-removed');
    expect(errnoOf(kvmGroup(s, s.dev, KVM_DEV_VFIO_GROUP_DEL, s.g))).toBe(0);
    if (r.ok !== 'paused') throw new Error('not paused');
    const after = r.resume();
    expect(after.ok).toBe('blocked'); // wait_event(group->container_q, !group->container)
    s.k.close(s.p, s.g);
    if (after.ok === 'blocked') expect(after.retry().ok).toBe(true);
  });

  test('kvm_vfio_file_del @ 6.1: DMA ownership; the question no longer arises', () => {
    const s = seed('6.1');
    const r = s.k.sysfsWrite(s.p, UNBIND, BDF, 'unbind:device-removed');
    expect(groupFlags(s, s.g)).toBe(3);
    expect(errnoOf(kvmGroup(s, s.dev, KVM_DEV_VFIO_GROUP_DEL, s.g))).toBe(0);
    if (r.ok === 'paused') expect(r.resume().ok).toBe(true);
    expect(groupFlags(s, s.g)).toBe('ENODEV'); // 3dd59a7dcb97: the group fd is disassociated
  });
});

describe('vfio_unregister_group_dev: waiting for the device fds, per era', () => {
  for (const [v, order] of [
    ['6.1', ['unbind:waiting-for-release']],
    ['6.6', ['unbind:device-removed', 'unbind:waiting-for-release']],
  ] as const) {
    test(`vfio_unregister_group_dev @ ${v}: with a device fd open the unbind blocks until it closes`, () => {
      const f = vfioKernel(v);
      const { g } = attached(f, BDF, 8);
      const d = fdOf(getDeviceFd(f, g, BDF));
      const passed: string[] = [];
      const r = f.k.sysfsWrite(f.p, UNBIND, BDF, undefined, passed);
      expect(r.ok).toBe('blocked');
      expect(passed).toEqual(order);
      f.k.close(f.p, d);
      if (r.ok === 'blocked') expect(errnoOf(r.retry())).toBe(12);
      expect(f.k.readlink(f.p, `/sys/bus/pci/devices/${BDF}/driver`).ok).toBe(false);
    });
  }

  test('sysfsPoints: the unbind points of each release, in order', () => {
    expect(vfioKernel('6.1').k.sysfsPoints(UNBIND)).toEqual([
      'unbind:device-removed',
      'unbind:waiting-for-release',
    ]);
    expect(vfioKernel('5.18').k.sysfsPoints(UNBIND)).toContain('unbind:waiting-for-container');
  });
});
